"""The task a scan worker runs: features of one chunk of images. Light imports on purpose
(NumPy, Pillow, OpenCV; no pandas), so pool workers start fast."""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, Sequence

from .features import SCANNER_VERSION, compute_features
from .pixels import release_scratch


def scan_chunk(root: str, items: Sequence[tuple[str, int, int]]) -> list[dict[str, Any]]:
    """Feature rows of ``items`` = ``[(image_id, file_size, mtime_ns), ...]`` under ``root``.

    The cache key (size and mtime as stat'ed before the decode) goes into each row, so a file
    that changes while it is scanned is scanned again next time.
    """
    rows = []
    with pillow_block_cache():
        for image_id, size, mtime in items:
            row = compute_features(os.path.join(root, image_id))
            row.update(image_id=image_id, file_size=size, mtime_ns=mtime, scanner_version=SCANNER_VERSION)
            rows.append(row)
    return rows


@contextlib.contextmanager
def pillow_block_cache(blocks: int = 4) -> Iterator[None]:
    """Reuse image memory within a chunk (Pillow's block cache, our work buffers): fresh pages
    can cost more than the decoding; both are released when the chunk ends."""
    from PIL import Image

    old = Image.core.get_blocks_max()
    Image.core.set_blocks_max(max(old, blocks))
    try:
        yield
    finally:
        Image.core.set_blocks_max(old)
        release_scratch()


def worker_init() -> None:
    """Process-pool initializer: one OpenCV thread, since there is one process per core."""
    import cv2

    cv2.setNumThreads(1)
