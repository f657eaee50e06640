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

from .errors import ReviewError, StoreUnavailable

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


def recovery_hint(path: Path) -> str:
    return (f"The file was left untouched. To recover: stop the app, move {path.name} aside (keep it: "
            f"`sqlite3 {path} .recover` can salvage its events) and copy a backup made with "
            f"`labelscope review backup DATASET OUT` in its place, or remove it to start an empty log.")


def explain(path: Path, err: BaseException) -> str:
    """A sqlite3 or OS error on the review database, in words, with what to do about it."""
    msg = str(getattr(err, "strerror", None) or err)
    low = msg.lower()
    if "disk i/o error" in low and _nearly_full(path):  # a full disk under the WAL shows up as an I/O error
        low += " (disk full)"
    if isinstance(err, OSError) and getattr(err, "errno", None) == 28 or "disk is full" in low or "disk full" in low:
        return (f"the disk holding the review database {path} is full: nothing of this action was written "
                "(the batch was rolled back) and every earlier decision is intact; free some space and try again")
    if "unable to open" in low and path.is_file() and _read_only_place(path):
        low += " (read-only)"
    if "readonly" in low or "read-only" in low or isinstance(err, PermissionError):
        return (f"the review database {path} cannot be written (read-only file or workspace: {msg}); nothing "
                "was written; reading works: `labelscope review log` and `export` still run")
    if path.is_dir():
        return f"the review database {path} is a directory, not a file; move it aside. Nothing was written."
    if "not a database" in low or "malformed" in low or "corrupt" in low or "no such table" in low:
        return f"the review database {path} is damaged or not a labelscope database ({msg}). " + recovery_hint(path)
    if "unable to open" in low:
        return f"the review database {path} cannot be opened ({msg}); check that its folder exists and is readable"
    if "disk i/o error" in low:
        return (f"the review database {path} hit a disk I/O error ({msg}): nothing of this action was written "
                "(the batch was rolled back); check the disk, then try again")
    return f"the review database {path} failed: {msg}"


def _read_only_place(path: Path) -> bool:
    """The database's folder cannot take the -wal/-shm files (read-only mount or permissions)."""
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):
        pass
    return not os.access(path.parent, os.W_OK)


def _nearly_full(path: Path, *, under: int = 1 << 20) -> bool:
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < under
    except OSError:
        return False


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are opened explicitly).

    ``read_only``: opened with ``mode=ro``; when even that cannot work (a read-only workspace
    holds no ``-shm`` file to share) and no ``-wal`` file holds unmerged decisions, the file is
    read as immutable. A read-only workspace with decisions still in ``-wal`` is refused (they
    would be missed) rather than read incompletely.
    """
    if not read_only:
        con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        con.execute("PRAGMA synchronous = FULL")  # decisions cannot be recomputed: fsync every commit
        return con
    from urllib.parse import quote

    uri = "file:" + quote(str(path))
    try:
        con = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                              check_same_thread=False)
        con.execute("SELECT COUNT(*) FROM events WHERE id < 0").fetchone()
        return con
    except sqlite3.OperationalError as err:
        low = str(err).lower()
        if "unable to open" not in low and "readonly" not in low and "read-only" not in low:
            raise
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreUnavailable(f"the review database {path} cannot be read here ({err}) and its {wal.name} "
                                   "holds decisions not yet merged; open it once where the workspace is writable "
                                   "(or copy the folder somewhere writable) so nothing is missed") from err
        con = sqlite3.connect(uri + "?immutable=1", uri=True, isolation_level=None, check_same_thread=False)
        con.execute("SELECT COUNT(*) FROM events WHERE id < 0").fetchone()
        return con


def create(path: Path, *, read_only: bool = False) -> None:
    """Create the database file and schema (idempotent, safe when several processes race).

    Raises StoreUnavailable (a ReviewError naming the file, why and how to recover) when the
    file is damaged, a directory, or cannot be written; the file is never modified then.
    ``read_only``: only check that an existing file can be read (a missing one is an empty log).
    """
    try:
        if read_only:
            if path.exists() or path.is_symlink():
                connect(path, read_only=True).close()
            return
        _create(path)
    except ReviewError:
        raise
    except (sqlite3.Error, OSError) as err:
        raise StoreUnavailable(explain(path, err)) from err


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise StoreUnavailable(explain(path, IsADirectoryError(21, "Is a directory")))
    con = connect(path)
    if path.exists() and path.stat().st_size > 0:  # read before writing anything: a damaged file stays as it is
        try:
            verdict = con.execute("PRAGMA quick_check(1)").fetchone()[0]
        except BaseException:
            con.close()
            raise
        if verdict != "ok":
            con.close()
            raise StoreUnavailable(f"the review database {path} is damaged (integrity check: {verdict}). "
                                   + recovery_hint(path))
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

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.RLock()

    def _connection(self) -> sqlite3.Connection:
        if self._con is None or self._pid != os.getpid():  # never reuse a connection across fork
            if self.read_only and not self.path.exists():
                self._con = _empty_log()  # nothing decided yet: an empty log, nothing created on disk
            else:
                self._con = connect(self.path, read_only=self.read_only)
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
        if self.read_only:
            raise StoreUnavailable(f"the review database {self.path} was opened read-only; nothing was written")
        with self._lock, self._explained():
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
        with self._lock, self._explained():
            yield self._connection()

    @contextmanager
    def _explained(self) -> Iterator[None]:
        """sqlite3 errors (a damaged file, a full disk) as StoreUnavailable naming the file."""
        try:
            yield
        except ReviewError:
            raise
        except (sqlite3.DatabaseError, OSError) as err:
            if isinstance(err, sqlite3.OperationalError) and _is_busy(err):
                raise ReviewError("the review database stayed busy (another process holds it); nothing was "
                                  "written, please try again") from err
            raise StoreUnavailable(explain(self.path, err)) from err


def _empty_log() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    con.executescript(SCHEMA)
    return con


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
