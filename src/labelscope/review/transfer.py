"""``labelscope db init|migrate|copy``: the review database's schema, and moving its events.

    labelscope db init --db postgresql://ana@db.lab/labels
    labelscope db copy data/demo/.labelscope/review.sqlite postgresql://ana@db.lab/labels
    labelscope db copy postgresql://ana@db.lab/labels backups/review.sqlite

A copy reads every event of the source in one snapshot, writes them (same ids, same values) into
an empty destination in one transaction, and before committing reads the destination back: the
event count and a SHA-256 of the events (every column, in id order) must equal the source's, or
nothing is written. The source is only read.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import db, pg, schema
from .errors import ReviewError

COLUMNS = ("id", "at", "reviewer", "image_id", "field", "old", "new", "action", "note", "batch", "reverts",
           "session")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY id"
_INSERT = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


@dataclass(frozen=True)
class CopyResult:
    source: str
    target: str
    events: int
    checksum: str


def database(url: str, *, read_only: bool = False):
    """The Database (SQLite or PostgreSQL) a URL or a plain SQLite path names, created unless read-only."""
    if pg.is_postgres(url):
        d = pg.PgDatabase(url, read_only=read_only)
        d.create()
        return d
    path = db.sqlite_path(url)
    if read_only and not path.exists():
        raise ReviewError(f"the review database {path} does not exist")
    db.create(path, read_only=read_only)
    return db.Database(path, read_only=read_only)


def checksum(rows: list[tuple]) -> str:
    """SHA-256 of the events, one canonical JSON line per event (ids and every value)."""
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([None if v is None else (int(v) if k == 0 else str(v)) for k, v in enumerate(r)],
                            ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()


def read_events(d: Any) -> list[tuple]:
    with d.snapshot() as con:
        return [tuple(r) for r in con.execute(_SELECT).fetchall()]


def summary(d: Any) -> tuple[int, str]:
    rows = read_events(d)
    return len(rows), checksum(rows)


def copy_events(source: str, target: str) -> CopyResult:
    """Copy every event of ``source`` into the empty store ``target`` (see the module docstring)."""
    src = database(source, read_only=True)
    rows = read_events(src)
    want = checksum(rows)
    dst = database(target)
    with dst.transaction() as con:
        have = int(con.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        if have:
            raise ReviewError(f"the target review database {dst.name} already holds {have:,} event(s); copy "
                              "only into an empty one (nothing was written)")
        for k in range(0, len(rows), 1000):
            con.executemany(_INSERT, rows[k:k + 1000])
        back = [tuple(r) for r in con.execute(_SELECT).fetchall()]
        got = checksum(back)
        if len(back) != len(rows) or got != want:
            raise ReviewError(f"copy to {dst.name} did not verify ({len(back)} of {len(rows)} events, checksum "
                              f"{got[:12]} != {want[:12]}); nothing was written")
        if dst.dialect == "postgresql" and rows:
            con.execute("SELECT setval(pg_get_serial_sequence('events', 'id'), ?)", (int(rows[-1][0]),))
    src.close()
    dst.close()
    return CopyResult(source=src.name, target=dst.name, events=len(rows), checksum=want)


def init(url: str) -> tuple[str, int, int]:
    """Create or migrate the schema of ``url``: (name, version before, version after)."""
    if pg.is_postgres(url):
        d = pg.PgDatabase(url)
        before, after = d.create()
        d.close()
        return d.name, before, after
    path = db.sqlite_path(url)
    before = 0
    if path.exists() and path.stat().st_size:
        import sqlite3

        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            before = schema.stored_version(con, "sqlite")
        except sqlite3.Error:
            before = 0
        finally:
            con.close()
    db.create(path)
    return str(path), before, schema.CODE_VERSION


def resolve(url_or_dataset: str | None, settings: Any = None) -> str:
    """A store URL: the given URL or SQLite path, else the settings' (``--db``/LABELSCOPE_DB), else the
    workspace's review.sqlite."""
    if url_or_dataset:
        return url_or_dataset
    if settings is not None and settings.db_url:
        return settings.db_url
    if settings is not None:
        from ..workspace import Workspace

        return str(Workspace(settings.workspace).review_db)
    url = db.env_db_url()
    if not url:
        raise ReviewError("no review database given: pass --db URL (or set LABELSCOPE_DB)")
    return url


def describe(url: str) -> str:
    return pg.mask_url(url) if pg.is_postgres(url) else str(Path(db.sqlite_path(url)))
