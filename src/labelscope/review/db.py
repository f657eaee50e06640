"""Where the review events live: a SQLite file in WAL mode, reached through a URL.

All SQL outside this module is plain, portable SQL (``INSERT``, ``SELECT`` with ``JOIN`` and
``GROUP BY``, ``?`` placeholders); the SQLite-specific parts (pragmas, ``BEGIN IMMEDIATE``,
the busy timeout) are here, so pointing the store at another database means replacing this
module, not the store.
"""
from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import ReviewError

BUSY_TIMEOUT_S = 30.0
RETRIES = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    image_id TEXT NOT NULL,
    field TEXT NOT NULL,
    old TEXT,
    new TEXT,
    action TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    batch TEXT NOT NULL,
    reverts TEXT,
    session TEXT
);
CREATE INDEX IF NOT EXISTS events_image_field ON events (image_id, field, id);
CREATE INDEX IF NOT EXISTS events_reviewer ON events (reviewer, id);
CREATE INDEX IF NOT EXISTS events_reverts ON events (reverts);
CREATE INDEX IF NOT EXISTS events_batch ON events (batch);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SCHEMA_VERSION = "1"


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///path`` URL (or a plain path) names.

    ``sqlite:///rel/path`` is relative to the current folder, ``sqlite:////abs/path`` absolute
    (the SQLAlchemy convention). Other schemes are refused with a clear message.
    """
    if "://" not in url:
        return Path(url).expanduser().resolve()
    scheme, rest = url.split("://", 1)
    if scheme != "sqlite":
        raise ReviewError(f"review store URL {url!r}: only sqlite:/// URLs are supported by this build "
                          "(the SQL is portable; another database needs its own connection module)")
    if not rest.startswith("/"):
        raise ReviewError(f"review store URL {url!r}: expected sqlite:///relative or sqlite:////absolute path")
    return Path(rest[1:]).expanduser().resolve()


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are opened explicitly)."""
    con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    con.execute("PRAGMA synchronous = FULL")  # decisions cannot be recomputed: fsync every commit
    return con


def create(path: Path) -> None:
    """Create the database file and schema (idempotent, safe when several processes race)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    try:
        _retry(lambda: con.execute("PRAGMA journal_mode = WAL"))

        def _schema() -> None:
            con.execute("BEGIN IMMEDIATE")
            try:
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                _add_missing_columns(con)
                con.execute("INSERT OR IGNORE INTO store_meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise

        _retry(_schema)
    finally:
        con.close()


# columns added after the first release: (name, SQL type); an older file gets them on open
ADDED_COLUMNS = (("session", "TEXT"),)


def _add_missing_columns(con: sqlite3.Connection) -> None:
    have = {row[1] for row in con.execute("PRAGMA table_info(events)")}
    for name, kind in ADDED_COLUMNS:
        if name not in have:
            con.execute(f"ALTER TABLE events ADD COLUMN {name} {kind}")


class Database:
    """One long-lived connection to the events file, shared by the threads of one process.

    A connection per call would make SQLite checkpoint and delete the WAL each time the last
    connection closes (tens of ms); one kept open makes a commit cost one fsync. A lock
    serialises this process's threads; other processes wait on SQLite's own lock.
    """

    def __init__(self, path: Path):
        self.path = path
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.RLock()

    def _connection(self) -> sqlite3.Connection:
        if self._con is None or self._pid != os.getpid():  # never reuse a connection across fork
            self._con = connect(self.path)
            self._pid = os.getpid()
        return self._con

    def close(self) -> None:
        with self._lock:
            if self._con is not None and self._pid == os.getpid():
                self._con.close()
            self._con = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its first statement.

        ``BEGIN IMMEDIATE`` makes read-check-write atomic: the stale-label check and the insert
        see the same database. Everything inside commits together or not at all.
        """
        with self._lock:
            con = self._connection()
            _retry(lambda: con.execute("BEGIN IMMEDIATE"))
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (WAL readers never block writers, nor wait for them)."""
        with self._lock:
            yield self._connection()


def _rollback(con: sqlite3.Connection) -> None:
    try:
        con.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _is_busy(err: sqlite3.OperationalError) -> bool:
    msg = str(err).lower()
    return "locked" in msg or "busy" in msg


def _retry(fn):
    """Run ``fn`` again (with jittered backoff) while the database reports busy/locked.

    The busy timeout already waits up to 30 s; this covers the cases SQLite does not hand to
    the busy handler. A user never sees "database is locked", only a clear ReviewError after
    every retry failed.
    """
    delay = 0.05
    for attempt in range(RETRIES):
        try:
            return fn()
        except sqlite3.OperationalError as err:
            if not _is_busy(err) or attempt == RETRIES - 1:
                if _is_busy(err):
                    raise ReviewError("the review database stayed busy (another process holds it); "
                                      "nothing was written, please try again") from err
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
    return None  # pragma: no cover


def env_db_url() -> str:
    return os.environ.get("LABELSCOPE_DB_URL", "")
