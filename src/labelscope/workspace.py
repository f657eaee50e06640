"""The workspace: one folder holding everything derived from one dataset.

Deleting it loses no source data except the review database (``review.sqlite``), the one
file that cannot be recomputed. Every writer here writes atomically (temp file + rename).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd


class Workspace:
    """Paths of the cached artefacts of one dataset (created on first use)."""

    def __init__(self, root: str | os.PathLike[str]):
        from .config import safe_resolve

        self.root = safe_resolve(root)

    @classmethod
    def of(cls, workspace: "str | os.PathLike[str] | Workspace") -> "Workspace":
        """``workspace`` as a Workspace (itself when it already is one): the one coercion."""
        return workspace if isinstance(workspace, Workspace) else cls(workspace)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def ensure(self) -> "Workspace":
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    # scan
    @property
    def features(self) -> Path:
        """Per-image scan features (one row per image_id), Parquet."""
        return self.root / "features.parquet"

    @property
    def thumbs(self) -> Path:
        """JPEG thumbnails (<=128 px), Parquet with columns image_id, thumb (bytes)."""
        return self.root / "thumbs.parquet"

    @property
    def scan_parts(self) -> Path:
        """Chunks an interrupted scan already finished; merged into features at the end."""
        return self.root / "scan_parts"

    @property
    def scan_meta(self) -> Path:
        return self.root / "scan.json"

    # later stages
    @property
    def review_db(self) -> Path:
        return self.root / "review.sqlite"

    @property
    def faces(self) -> Path:
        return self.root / "faces.parquet"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def suspects(self) -> Path:
        return self.root / "suspects.parquet"

    def has_scan(self) -> bool:
        return self.features.exists()


MISSING = (-1, -1)


def fingerprint(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a file, :data:`MISSING` ``(-1, -1)`` when it cannot be stat'ed.

    The one change marker of the project: caches keyed on it see a file written, replaced or removed.
    """
    try:
        st = os.stat(path)
    except OSError:
        return MISSING
    return (int(st.st_size), int(st.st_mtime_ns))


def tree_fingerprint(source: str | os.PathLike[str]) -> str:
    """A digest that changes when any image of a dataset is added, removed or renamed, or a file
    at its top level (``train.csv``, a CSV manifest) or the CSV it was given changes.

    ``source`` is the dataset folder or its CSV file. Hashed: the name of every entry in every
    folder below the root, dot-entries such as the ``.labelscope`` workspace left out, and the
    :func:`fingerprint` of ``source`` and of each file directly in the root. Reads directory
    listings only (no file is opened): tens of milliseconds for 19,000 images.
    """
    import hashlib

    src = Path(source)
    root = src.parent if src.is_file() else src
    h = hashlib.sha1(repr(fingerprint(src) if src.is_file() else str(src)).encode())
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            entries = sorted((e for e in os.scandir(d) if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            continue
        h.update(f"\0{os.path.relpath(d, root)}/".encode("utf-8", "surrogateescape"))
        for e in entries:
            h.update(f"{e.name}\0".encode("utf-8", "surrogateescape"))
            try:
                if e.is_dir():
                    stack.append(Path(e.path))
                elif d == root:
                    h.update(repr(fingerprint(e.path)).encode())
            except OSError:
                continue
    return h.hexdigest()[:16]


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename tmp over ``path``: readers see old or new, never half.

    The temporary file lives in the same folder (same filesystem) and is fsynced before the
    rename. On any error it is removed and the previous file is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_parquet(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    return atomic_write(path, lambda p: df.to_parquet(p, index=False))


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    def _w(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")

    return atomic_write(path, _w)


def write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    return atomic_write(path, lambda p: p.write_bytes(data))
