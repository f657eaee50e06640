"""The scan's tables on disk: schemas, chunk parts, and fast readers for the app.

``features.parquet`` holds one row per image (``FEATURE_COLUMNS``); ``thumbs.parquet`` holds
``image_id, thumb`` (JPEG bytes), sorted by ``image_id`` in small row groups so that reading
a page of thumbnails touches only the row groups that hold them.
"""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.parquet as pq

from ..workspace import Workspace, atomic_write
from .features import FEATURE_COLUMNS

_TYPES = {
    "image_id": pa.string(), "file_size": pa.int64(), "mtime_ns": pa.int64(), "ctime_ns": pa.int64(),
    "scanner_version": pa.string(),
    "error": pa.string(), "format": pa.string(), "mode": pa.string(), "width": pa.int32(), "height": pa.int32(),
    "phash": pa.int64(), "sha1": pa.string(), "is_grayscale": pa.bool_(),
    **{f"hist_{c}": pa.list_(pa.int64()) for c in "rgb"},
}
FEATURE_SCHEMA = pa.schema([(c, _TYPES.get(c, pa.float64())) for c in FEATURE_COLUMNS])
THUMB_SCHEMA = pa.schema([("image_id", pa.string()), ("thumb", pa.binary())])
PART_SCHEMA = pa.schema(list(FEATURE_SCHEMA) + [pa.field("thumb", pa.binary())])
# the cache key: size, mtime and the inode change time (a rewrite that keeps the size and puts the
# mtime back, as `touch -r` or a restore does, still moves ctime), plus the scanner's version
KEY_COLUMNS = ["image_id", "file_size", "mtime_ns", "ctime_ns", "scanner_version"]
THUMB_ROW_GROUP = 256


def as_workspace(workspace: str | os.PathLike[str] | Workspace) -> Workspace:
    return Workspace.of(workspace)


def rows_to_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Feature rows (with ``thumb``) as a table of ``PART_SCHEMA``."""
    return pa.Table.from_pylist(list(rows), schema=PART_SCHEMA)


def write_table(table: pa.Table, path: Path, *, row_group_size: int | None = None) -> Path:
    return atomic_write(path, lambda p: pq.write_table(table, p, row_group_size=row_group_size))


def write_part(ws: Workspace, rows: Sequence[dict[str, Any]]) -> Path:
    """One finished chunk as an Arrow file in ``scan_parts/`` (the name orders parts by time).

    Written to a temporary name and renamed, but not fsynced: a part is a cache of work that
    a crash may lose; an unreadable part is skipped and its images are simply scanned again.
    """
    ws.scan_parts.mkdir(parents=True, exist_ok=True)
    path = ws.scan_parts / f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.arrow"
    tmp = path.with_name("." + path.name + ".tmp")
    try:
        feather.write_feather(rows_to_table(rows), tmp, compression="uncompressed")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_part(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    return feather.read_table(path, columns=list(columns) if columns else None, memory_map=False)


def part_files(ws: Workspace) -> list[Path]:
    return sorted(ws.scan_parts.glob("part-*.arrow")) if ws.scan_parts.is_dir() else []


def read_keys(ws: Workspace) -> tuple[pa.Table | None, list[tuple[Path, pa.Table]]]:
    """Cache keys of the merged features (None when absent or unreadable) and of each part."""
    merged = None
    if ws.features.exists() and ws.thumbs.exists():
        try:
            merged = pq.read_table(ws.features, columns=KEY_COLUMNS)
        except (OSError, pa.ArrowException, KeyError):
            merged = None
    parts = []
    for p in part_files(ws):
        try:
            parts.append((p, read_part(p, KEY_COLUMNS)))
        except (OSError, pa.ArrowException, KeyError):
            continue  # unreadable part: its images are scanned again
    return merged, parts


def select_rows(table: pa.Table, ids: Iterable[str]) -> pa.Table:
    ids = pa.array(list(ids), type=pa.string())
    return table.filter(pc.is_in(table["image_id"], value_set=ids))


def order_by(table: pa.Table, ids: list[str]) -> pa.Table:
    """Rows of ``table`` (unique ``image_id``) in the order of ``ids``."""
    pos = pc.index_in(table["image_id"], value_set=pa.array(ids, type=pa.string()))
    return table.take(pc.sort_indices(pa.table({"pos": pos}), sort_keys=[("pos", "ascending")]))


def load_features(workspace: str | os.PathLike[str] | Workspace, *,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The scan's per-image features, one row per image, in manifest order.

    Parameters
    ----------
    workspace : path or Workspace
        The workspace a scan wrote to.
    columns : list of str, optional
        Only these columns (``image_id`` is always included). Reading fewer columns is faster.

    Returns
    -------
    DataFrame
        ``FEATURE_COLUMNS``; ``hist_*`` cells are int64 arrays of 32 counts (empty for
        unreadable images); integer and bool columns use pandas' nullable dtypes (``<NA>``
        where an unreadable image has no value), so ``phash`` stays an exact int64.

    Raises
    ------
    FileNotFoundError
        The workspace has no scan yet (run ``labelscope scan``).
    """
    ws = as_workspace(workspace)
    if not ws.features.exists():
        raise FileNotFoundError(f"no scan in {ws.root}: run `labelscope scan` on the dataset first")
    cols = None if columns is None else ["image_id"] + [c for c in columns if c != "image_id"]
    return pq.read_table(ws.features, columns=cols).to_pandas(types_mapper=_NULLABLE.get)


# nullable pandas dtypes keep 64-bit hashes exact when some image has none (no float cast)
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}


def load_thumbs(workspace: str | os.PathLike[str] | Workspace,
                image_ids: Iterable[str] | None = None) -> dict[str, bytes]:
    """Thumbnails as ``{image_id: JPEG bytes}``: all of them, or only ``image_ids``.

    Reading a few ids touches only the row groups that hold them (the file is sorted by id);
    unknown ids and unreadable images (no thumbnail) are simply absent from the result.
    """
    ws = as_workspace(workspace)
    if not ws.thumbs.exists():
        raise FileNotFoundError(f"no thumbnails in {ws.root}: run `labelscope scan` on the dataset first")
    if image_ids is None:
        t = pq.read_table(ws.thumbs)
    else:
        wanted = pa.array(list(dict.fromkeys(image_ids)), type=pa.string())
        if not len(wanted):
            return {}
        pf = pq.ParquetFile(ws.thumbs)
        starts = np.cumsum([0] + [pf.metadata.row_group(k).num_rows for k in range(pf.num_row_groups)])
        pos = np.flatnonzero(pc.is_in(_thumb_ids(ws.thumbs), value_set=wanted).to_numpy(zero_copy_only=False))
        groups = sorted(set((np.searchsorted(starts, pos, side="right") - 1).tolist()))
        if not groups:
            return {}
        t = pf.read_row_groups(groups)
        t = t.filter(pc.is_in(t["image_id"], value_set=wanted))
    return {i: b for i, b in zip(t["image_id"].to_pylist(), t["thumb"].to_pylist()) if b}


def _thumb_ids(path: Path) -> pa.ChunkedArray:
    """The id column of a thumbs file, remembered while the file is unchanged (size, mtime)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    ids = _IDS.get(key)
    if ids is None:
        ids = pq.read_table(path, columns=["image_id"])["image_id"]
        if len(_IDS) >= 4:
            _IDS.pop(next(iter(_IDS)))
        _IDS[key] = ids
    return ids


_IDS: dict[tuple, pa.ChunkedArray] = {}
