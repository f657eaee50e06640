"""Scan a dataset into its workspace: stat every image, decode only what changed, in parallel.

Cache rule: an image whose ``(image_id, file_size, mtime_ns, scanner_version)`` matches a
stored row is not decoded again. Each finished chunk is written at once to ``scan_parts/``
(atomically), so an interrupted scan keeps its work and the next scan reuses it; at the end
the rows are merged into ``features.parquet`` and ``thumbs.parquet`` (atomically) and the
parts are removed. Rows of images no longer in the manifest are dropped.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..config import default_workspace
from ..dataset import Manifest, load_dataset
from ..workspace import Workspace, write_json
from .decode import MAX_PIXELS
from .features import FEATURE_COLUMNS, SCANNER_VERSION, THUMB_SIZE
from .table import (FEATURE_SCHEMA, THUMB_ROW_GROUP, THUMB_SCHEMA, as_workspace, part_files, read_keys,
                    read_part, write_part, write_table)
from .worker import scan_chunk, worker_init

ProgressFn = Callable[[int, int], None]
Key = tuple[int, int, int]  # (file_size, mtime_ns, ctime_ns); (0, -1, -1) for a file that cannot be stat'ed
MAX_CHUNK = 64
POOL_MIN_IMAGES = 200
"""Fewer images to decode than this are decoded in this process: starting worker processes
(a fork server, imports) costs about what decoding 100-300 images does."""


@dataclass
class ScanSummary:
    """What one scan did. ``decoded + cached == total``; ``unreadable`` counts every row with an error."""

    total: int
    decoded: int
    cached: int
    unreadable: int
    removed: int
    seconds: float
    workspace: str
    workers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ScanBusyError(RuntimeError):
    """Another scan holds this workspace."""


def scan_dataset(dataset: str | os.PathLike[str] | Manifest, workspace: str | os.PathLike[str] | Workspace | None = None, *,
                 layout: str = "auto", workers: int | None = None, progress: ProgressFn | None = None,
                 manifest: Manifest | None = None, executor: Executor | None = None,
                 chunk_size: int | None = None) -> ScanSummary:
    """Scan every image of a dataset once; write features and thumbnails to the workspace.

    Parameters
    ----------
    dataset : path-like or Manifest
        The dataset folder (or CSV file), or an already loaded Manifest (the rule of every entry
        point: ``(manifest, workspace, *, options)``).
    workspace : path-like or Workspace, optional
        Where results go; default ``.labelscope/`` in the dataset's folder.
    layout : str, default "auto"
        Passed to ``load_dataset`` when ``manifest`` is not given.
    workers : int, optional
        Processes to decode with (default: every core this process may use). ``1``, or fewer than
        ``POOL_MIN_IMAGES`` images to decode, decodes in this process.
    progress : callable(done, total), optional
        Called once before decoding (``done`` = images already cached) and after each chunk.
        An exception it raises stops the scan; finished chunks are kept for the next scan.
    manifest : Manifest, optional
        An already loaded manifest of ``dataset`` (saves reading it again).
    executor : concurrent.futures.Executor, optional
        Runs the chunks instead of a fresh process pool (e.g. a cluster executor). Tasks are
        ``scan_chunk(root, items)`` calls; the caller keeps ownership of the executor.
    chunk_size : int, optional
        Images per task; default balances the work over ``workers`` (at most 64).

    Returns
    -------
    ScanSummary

    Raises
    ------
    DatasetError
        The dataset cannot be used at all (see ``labelscope check``).
    ScanBusyError
        Another scan is running on the same workspace.
    """
    t0 = time.perf_counter()
    if isinstance(dataset, Manifest):
        manifest, dataset = dataset, dataset.source
    if manifest is None:
        manifest = load_dataset(dataset, layout)
    ws = as_workspace(workspace if workspace is not None else default_workspace(dataset)).ensure()
    workers = max(1, int(workers or available_cpus()))
    with scan_lock(ws):
        ids = manifest.df["image_id"].astype(str).tolist()
        keys = stat_images(manifest.root, ids)
        merged_keys, parts = read_keys(ws)
        old_ids, fresh = cached_ids(keys, merged_keys, [t for _, t in parts])
        todo = [(i, *keys[i]) for i in ids if i not in fresh]
        removed = len(old_ids - set(ids))
        total, done = len(ids), len(ids) - len(todo)
        if progress:
            progress(done, total)
        size = chunk_size or max(8, min(MAX_CHUNK, -(-len(todo) // (workers * 4))))
        chunks = [todo[k:k + size] for k in range(0, len(todo), size)]

        def finished(rows: list[dict[str, Any]]) -> None:
            nonlocal done
            write_part(ws, rows)
            done += len(rows)
            if progress:
                progress(done, total)

        used = pool_size(len(todo), len(chunks), workers) if executor is None else 0
        run_chunks(str(manifest.root), chunks, finished, workers=used, executor=executor)
        if todo or removed or parts or merged_keys is None:
            unreadable = merge(ws, ids, keys)
        else:
            unreadable = count_unreadable(ws)
        summary = ScanSummary(total=total, decoded=len(todo), cached=total - len(todo), unreadable=unreadable,
                              removed=removed, seconds=round(time.perf_counter() - t0, 3), workspace=str(ws.root),
                              workers=used)
        write_json({
            "scanner_version": SCANNER_VERSION, "dataset": str(manifest.source), "layout": manifest.layout,
            "settings": {"workers": summary.workers, "chunk_size": size, "max_pixels": MAX_PIXELS,
                         "thumb_size": THUMB_SIZE, "executor": type(executor).__name__ if executor else None},
            "summary": summary.to_dict(), "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }, ws.scan_meta)
    return summary


def available_cpus() -> int:
    """Cores this process may run on (CPU affinity, e.g. a container's cpuset), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def pool_size(images: int, chunks: int, workers: int) -> int:
    """Processes worth starting: 1 (this process) when the work is smaller than what a pool
    costs to start (``POOL_MIN_IMAGES``), else ``workers`` (at most one per chunk)."""
    if images < POOL_MIN_IMAGES:
        return 1
    return max(1, min(workers, chunks))


def run_chunks(root: str, chunks: list[list[tuple[str, int, int, int]]], finished: Callable[[list[dict]], None], *,
               workers: int, executor: Executor | None) -> None:
    """Run ``scan_chunk`` on every chunk (in this process when ``workers == 1``), calling
    ``finished(rows)`` in this process as each completes. On any error pending chunks are
    cancelled and the error is raised; finished chunks have already been handed over."""
    if not chunks:
        return
    if executor is None and workers <= 1:
        for chunk in chunks:
            finished(scan_chunk(root, chunk))
        return
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                           initializer=worker_init, initargs=(os.getpid(),))
    futures = [pool.submit(scan_chunk, root, chunk) for chunk in chunks]
    try:
        for fut in as_completed(futures):
            finished(fut.result())
    except BaseException:
        for fut in futures:
            fut.cancel()
        if own:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    if own:
        pool.shutdown()


def stat_images(root: Path, ids: Sequence[str]) -> dict[str, Key]:
    keys: dict[str, Key] = {}
    for i in ids:
        try:
            st = os.stat(root / i)
            keys[i] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        except OSError:
            keys[i] = (0, -1, -1)
    return keys


def cached_ids(keys: dict[str, Key], merged: pa.Table | None, parts: list[pa.Table]) -> tuple[set[str], set[str]]:
    """(ids stored in features.parquet, ids whose stored row is still valid in features or parts)."""
    old = set(merged["image_id"].to_pylist()) if merged is not None else set()
    fresh: set[str] = set()
    for t in ([merged] if merged is not None else []) + parts:
        cols = [t[c].to_pylist() for c in ("image_id", "file_size", "mtime_ns", "ctime_ns", "scanner_version")]
        fresh.update(i for i, size, mtime, ctime, version in zip(*cols)
                     if version == SCANNER_VERSION and keys.get(i) == (size, mtime, ctime))
    return old, fresh


def merge(ws: Workspace, ids: list[str], keys: dict[str, Key]) -> int:
    """Write features.parquet / thumbs.parquet from the valid rows of the old files and the
    parts (newest row of an image wins), in manifest order; remove the parts. Returns the
    number of unreadable images."""
    parts = part_files(ws)
    sources = []
    old_thumbs = None
    merged, _ = read_keys(ws)
    if merged is not None:
        try:
            old = pq.read_table(ws.features).select(list(FEATURE_COLUMNS)).cast(FEATURE_SCHEMA)
            old_thumbs = pq.read_table(ws.thumbs).select(["image_id", "thumb"]).cast(THUMB_SCHEMA)
            sources.append(old)
        except (OSError, KeyError, ValueError, pa.ArrowException):
            old_thumbs = None  # another scanner's layout: its rows are not reused
    n_old = len(sources[0]) if sources else 0
    part_tables = []
    for p in parts:
        try:
            part_tables.append(read_part(p, list(FEATURE_COLUMNS) + ["thumb"]))
        except (OSError, KeyError, pa.ArrowException):
            continue
    sources += [t.select(list(FEATURE_COLUMNS)).cast(FEATURE_SCHEMA) for t in part_tables]
    rows = pa.concat_tables(sources) if sources else FEATURE_SCHEMA.empty_table()
    best: dict[str, int] = {}
    cols = [rows[c].to_pylist() for c in ("image_id", "file_size", "mtime_ns", "ctime_ns", "scanner_version")]
    for r, (i, size, mtime, ctime, version) in enumerate(zip(*cols)):
        if version == SCANNER_VERSION and keys.get(i) == (size, mtime, ctime):
            best[i] = r  # later sources are newer
    take = [best[i] for i in ids if i in best]
    features = rows.take(pa.array(take, type=pa.int64()))

    # a row from the old files takes its thumbnail from thumbs.parquet (by id), a row from a
    # part the part's own (by position); unreadable images have none
    old_pos: dict[str, int] = {}
    old_values = pa.array([], type=pa.binary())
    if old_thumbs is not None:
        old_pos = {i: k for k, i in enumerate(old_thumbs["image_id"].to_pylist())}
        old_values = old_thumbs["thumb"].combine_chunks()
    values = pa.concat_arrays([old_values] + [c for t in part_tables for c in t["thumb"].cast(pa.binary()).chunks])
    pairs = [(i, old_pos.get(i) if best[i] < n_old else len(old_values) + best[i] - n_old) for i in sorted(best)]
    pairs = [(i, k) for i, k in pairs if k is not None]
    thumbs = pa.table({"image_id": pa.array([i for i, _ in pairs], type=pa.string()),
                       "thumb": values.take(pa.array([k for _, k in pairs], type=pa.int64()))}, schema=THUMB_SCHEMA)
    thumbs = thumbs.filter(pc.greater(pc.binary_length(thumbs["thumb"]), 0))

    write_table(thumbs, ws.thumbs, row_group_size=THUMB_ROW_GROUP)
    write_table(features, ws.features)
    for p in parts:
        p.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        ws.scan_parts.rmdir()
    return int(pc.sum(pc.not_equal(features["error"], "")).as_py() or 0)


def count_unreadable(ws: Workspace) -> int:
    err = pq.read_table(ws.features, columns=["error"])["error"]
    return int(pc.sum(pc.not_equal(err, "")).as_py() or 0)


@contextlib.contextmanager
def scan_lock(ws: Workspace) -> Iterator[None]:
    """One scan per workspace at a time (advisory lock; a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(ws.root / "scan.lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ScanBusyError(f"another scan is running on {ws.root}") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _mp_context() -> multiprocessing.context.BaseContext:
    """forkserver where available (forking a threaded parent such as the Streamlit server is
    unsafe), with the worker module preloaded so each worker starts without imports. As with
    any process pool, a script calling ``scan_dataset`` needs an ``if __name__ == "__main__":``
    guard."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "labelscope.scan.worker"])
    return ctx
