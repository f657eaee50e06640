"""The event log folded to its latest event per (image_id, field), kept up to date in memory.

The first read scans the whole log; later reads fetch only events newer than the last one seen.
That is sound because event ids grow in commit order (SQLite has one writer at a time), so
``id > last_seen`` catches up with every process's decisions.
"""
from __future__ import annotations

import threading

import numpy as np

from .db import Database

COLUMNS = ("id", "at", "reviewer", "image_id", "field", "new")
_SINCE = f"SELECT {', '.join(COLUMNS)} FROM events WHERE id > ? ORDER BY id"


class LatestEvents:
    """One slot per (image_id, field) holding its newest event; thread-safe."""

    def __init__(self, database: Database):
        self._db = database
        self.lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._slot: dict[tuple[str, str], int] = {}
        self._cols: dict[str, list] = {name: [] for name in COLUMNS}
        self.last_id = 0
        self._arrays: dict[str, np.ndarray] | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns id (int64), at, reviewer, image_id, field, new (object), one row per slot."""
        with self.lock:
            with self._db.reading() as con:
                top = int(con.execute("SELECT MAX(id) FROM events").fetchone()[0] or 0)
                if top < self.last_id:  # the database was replaced: start over
                    self._reset()
                rows = con.execute(_SINCE, (self.last_id,)).fetchall() if top > self.last_id else []
            if rows or self._arrays is None:
                self._absorb(rows)
                self._arrays = {name: np.asarray(vals, dtype=np.int64 if name == "id" else object)
                                for name, vals in self._cols.items()}
            return self._arrays

    def _absorb(self, rows: list[tuple]) -> None:
        slot, cols = self._slot, self._cols
        for row in rows:
            key = (row[3], row[4])
            k = slot.get(key)
            if k is None:
                slot[key] = len(cols["id"])
                for name, v in zip(COLUMNS, row):
                    cols[name].append(v)
            else:
                for name, v in zip(COLUMNS, row):
                    cols[name][k] = v
        if rows:
            self.last_id = rows[-1][0]
