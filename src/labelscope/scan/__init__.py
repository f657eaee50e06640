"""The scan: one decode per image -> features, thumbnails; parallel, incremental, cached.

>>> from labelscope.scan import scan_dataset, load_features, load_thumbs
>>> summary = scan_dataset("data/demo")            # workspace: data/demo/.labelscope
>>> df = load_features(summary.workspace)          # one row per image
>>> thumbs = load_thumbs(summary.workspace, df.image_id[:24])

Names are imported on first use, so a scan worker importing ``labelscope.scan.worker`` does
not pay for pandas and the runner.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FEATURE_COLUMNS": "features", "SCANNER_VERSION": "features",
    "THUMB_SIZE": "features", "compute_features": "features", "hamming": "phash", "MAX_PIXELS": "decode",
    "ScanBusyError": "runner", "ScanSummary": "runner", "scan_dataset": "runner",
    "scan_chunk": "worker", "load_features": "table", "load_thumbs": "table",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'labelscope.scan' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
