"""The review events in PostgreSQL (psycopg 3), behind the same seam as the SQLite file (db.py).

    labelscope review apply data/demo fixes.csv --reviewer ana --db postgresql://ana:pw@host/labels
    LABELSCOPE_DB=postgresql://host/labels streamlit run app.py -- --dataset data/demo

The store's SQL is shared: this module hands it a connection that takes the same ``?``
placeholders. What differs lives here:

- every write transaction first takes one transaction-level advisory lock (released by the
  commit itself), so the stale-view check and the insert see the same database, exactly as
  SQLite's ``BEGIN IMMEDIATE``; the same lock makes event ids commit in id order among
  labelscope writers;
- every writer takes its transaction id before it draws an event id, and ``horizon`` gives the
  incremental fold the snapshot's transaction bounds, so the fold stays right even when ids
  commit out of order (sequences give no such promise in general; see fold.py);
- errors name the database by its URL with the password masked.
"""
from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from .errors import ReviewError, StoreUnavailable

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
LOCK_KEY = 0x6C61_6265_6C73  # "labels": the writers' advisory lock
CONNECT_TIMEOUT_S = 10


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split("://", 1)[0].lower() in SCHEMES and "://" in url


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (in the authority and in ``password=``)."""
    out = re.sub(r"^([a-zA-Z0-9+.-]+://[^:/?#@]*):[^@/?#]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", out)


def _dsn(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.lower() != "postgresql" else url


def explain(url: str, err: BaseException) -> str:
    """A psycopg error in words naming the database (password masked); says nothing was written."""
    name = mask_url(url)
    msg = _scrub(" ".join(str(err).split()), url)
    low = msg.lower()
    if ("password authentication failed" in low or "no pg_hba.conf entry" in low or "permission denied" in low
            or ("role" in low and "does not exist" in low) or "password is required" in low):
        why = "was refused (wrong user or password, or no access)"
    elif "does not exist" in low and "database" in low:
        why = "does not exist on that server (create it, then `labelscope db init`)"
    elif ("connection refused" in low or "could not connect" in low or "timeout" in low or "timed out" in low
          or "could not translate host name" in low or "name or service not known" in low):
        why = "cannot be reached (is the server running, and are host and port right?)"
    elif "server closed the connection" in low or "terminating connection" in low or "connection is lost" in low:
        why = ("went away; nothing of this action was written (the batch is all or nothing) and every "
               "decision committed before is safe")
    else:
        why = "failed"
    return f"the review database {name} {why}: {msg}; nothing was written"


def _scrub(msg: str, url: str) -> str:
    for pw in re.findall(r"^[a-zA-Z0-9+.-]+://[^:/?#@]*:([^@/?#]*)@", url) + re.findall(r"(?i)password=([^&\s]*)", url):
        if pw:
            msg = msg.replace(pw, "***")
    return msg.replace(url, mask_url(url))


class _Cursor:
    def __init__(self, cur):
        self._cur = cur

    def fetchone(self):
        return self._cur.fetchone()

    def fetchall(self):
        return self._cur.fetchall()

    def __iter__(self):
        return iter(self._cur)


class PgConnection:
    """A psycopg connection that takes the store's SQLite-style ``?`` placeholders."""

    dialect = "postgresql"

    def __init__(self, con):
        self.raw = con

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        params = tuple(params)
        return _Cursor(self.raw.execute(self._sql(sql), params) if params else self.raw.execute(sql))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(self._sql(sql), rows)


def _psycopg():
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover - a pinned requirement
        raise ReviewError("a postgresql:// review store needs psycopg 3 (`pip install psycopg[binary]`)") from err
    return psycopg


class PgDatabase:
    """One connection per process (reopened after fork or loss), shared by its threads under a lock."""

    dialect = "postgresql"

    def __init__(self, url: str, *, read_only: bool = False):
        self.url = url
        self.name = mask_url(url)
        self.read_only = read_only
        self._con: PgConnection | None = None
        self._pid = 0
        self._lock = threading.RLock()

    def __str__(self) -> str:
        return self.name

    def _connection(self) -> PgConnection:
        if self._con is None or self._pid != os.getpid() or self._con.raw.closed or self._con.raw.broken:
            psycopg = _psycopg()
            raw = psycopg.connect(_dsn(self.url), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                  application_name="labelscope")
            self._con = PgConnection(raw)
            self._pid = os.getpid()
        return self._con

    def close(self) -> None:
        with self._lock:
            if self._con is not None and self._pid == os.getpid():
                self._con.raw.close()
            self._con = None

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One write transaction under the writers' advisory lock: all of it commits or none."""
        if self.read_only:
            raise StoreUnavailable(f"the review database {self.name} was opened read-only; nothing was written")
        with self._lock, self._explained():
            con = self._connection()
            with con.raw.transaction():
                con.execute("SELECT pg_advisory_xact_lock(?), pg_current_xact_id()", (LOCK_KEY,))
                yield con

    def create(self) -> tuple[int, int]:
        """Create or migrate the schema (idempotent, serialised by the writers' lock): (before, after).

        Read-only: only check that the schema exists and is not newer than this code."""
        from . import schema

        if self.read_only:
            with self.reading() as con:
                version = schema.stored_version(con, self.dialect)
            schema.check_version(version, self.name)
            if version == 0:
                raise StoreUnavailable(f"the review database {self.name} holds no labelscope events yet "
                                       f"(run `labelscope db init --db {self.name}`)")
            return version, version
        with self.transaction() as con:
            return schema.migrate(con, self.dialect, self.name)

    def version_info(self) -> int:
        from . import schema

        with self.reading() as con:
            return schema.stored_version(con, self.dialect)

    @contextmanager
    def reading(self) -> Iterator[PgConnection]:
        with self._lock, self._explained():
            yield self._connection()

    @contextmanager
    def snapshot(self) -> Iterator[PgConnection]:
        """Reads that all see one snapshot (REPEATABLE READ, read only)."""
        with self._lock, self._explained():
            con = self._connection()
            with con.raw.transaction():
                con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield con

    @staticmethod
    def horizon(con: PgConnection) -> tuple[int, int]:
        """(xmin, xmax) of the current snapshot: every transaction below xmin has ended; any that
        could still commit an event has an id at or above xmin; all started after have ids >= xmax."""
        xmin, xmax = con.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                                 "pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()
        return int(xmin), int(xmax)

    @contextmanager
    def _explained(self) -> Iterator[None]:
        psycopg = _psycopg()
        try:
            yield
        except ReviewError:
            raise
        except psycopg.errors.UndefinedTable as err:
            raise StoreUnavailable(f"the review database {self.name} holds no labelscope events table "
                                   f"(run `labelscope db init --db {self.name}`); nothing was written") from err
        except psycopg.Error as err:
            if self._con is not None and (self._con.raw.closed or self._con.raw.broken):
                self._con = None  # reconnect on the next call
            raise StoreUnavailable(explain(self.url, err)) from err
