"""A consistent copy of the review database while the app runs: SQLite's online backup API.

Copying ``review.sqlite`` with ``cp`` while the app runs copies none of the recent decisions
(they sit in ``review.sqlite-wal`` until a checkpoint) and may catch a page mid-write. The
backup API copies the database as one transaction sees it, WAL included, into one
self-contained file; it is written beside the target and renamed into place.

    labelscope review backup data/demo backups/review-monday.sqlite
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .db import explain
from .errors import ReviewError, StoreUnavailable


@dataclass(frozen=True)
class BackupResult:
    """Where the copy went, how many events it holds, the newest event id and its size."""

    path: Path
    events: int
    last_id: int
    bytes: int


def backup_database(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> BackupResult:
    """Copy the review database ``source`` to ``out`` (a file, or a folder to hold ``review.sqlite``).

    The copy is checked (``PRAGMA integrity_check``) before it replaces ``out``; the source is
    only read. Raises ReviewError naming the file when either side cannot be used.
    """
    src = Path(source)
    dst = Path(out).expanduser()
    if dst.is_dir():
        dst = dst / src.name
    if not src.is_file():
        raise ReviewError(f"no review database at {src}: nothing has been decided yet, nothing to back up")
    if dst.exists() and os.path.samefile(dst, src):
        raise ReviewError(f"{dst} is the live review database itself; choose another place for the backup")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        from urllib.parse import quote

        s = sqlite3.connect(f"file:{quote(str(src))}?mode=ro", uri=True, timeout=30)
        try:
            d = sqlite3.connect(str(tmp))
            try:
                s.backup(d)
                verdict = d.execute("PRAGMA integrity_check").fetchone()[0]
                n, last = d.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM events").fetchone()
            finally:
                d.close()
        finally:
            s.close()
        if verdict != "ok":
            raise StoreUnavailable(f"the backup of {src} failed its integrity check ({verdict}); {dst} was not "
                                   "replaced")
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except sqlite3.Error as err:
        raise StoreUnavailable(explain(src, err)) from err
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(path=dst.resolve(), events=int(n), last_id=int(last), bytes=dst.stat().st_size)
