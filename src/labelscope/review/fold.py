"""The event log folded to its latest event per (image_id, field), kept up to date in memory.

The first read scans the whole log; later reads fetch only events above ``settled``, the id up
to which every event is known to be final. In SQLite (one writer at a time) ids commit in id
order, so every id seen is settled at once. In PostgreSQL a sequence hands out ids before the
transactions commit, so a later id can become visible first. There an id range is settled when
it has no gap (a gap is an id still in flight, or rolled back), or once every transaction that
was running when the gap was seen has ended (the snapshot's xmin passed that read's xmax:
writers take their transaction id before drawing an event id). Until then each read re-reads
the ids above ``settled`` and absorbs the ones it has not seen; a slot keeps the larger id, so
the order of absorption does not matter.
"""
from __future__ import annotations

import threading

import numpy as np

COLUMNS = ("id", "at", "reviewer", "image_id", "field", "new")
_SINCE = f"SELECT {', '.join(COLUMNS)} FROM events WHERE id > ? ORDER BY id"


class LatestEvents:
    """One slot per (image_id, field) holding its newest event; thread-safe."""

    def __init__(self, database):
        self._db = database
        self.lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._slot: dict[tuple[str, str], int] = {}
        self._cols: dict[str, list] = {name: [] for name in COLUMNS}
        self.last_id = 0          # the largest id absorbed
        self.settled = 0          # every id <= settled is final and absorbed
        self._above: set[int] = set()   # ids > settled already absorbed
        self._waits: list[tuple[int, int]] = []  # (xmax of the read that saw a gap, last_id then)
        self._arrays: dict[str, np.ndarray] | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns id (int64), at, reviewer, image_id, field, new (object), one row per slot."""
        with self.lock:
            with self._db.snapshot() as con:
                top = int(con.execute("SELECT MAX(id) FROM events").fetchone()[0] or 0)
                if top < self.last_id:  # the database was replaced: start over
                    self._reset()
                horizon = self._db.horizon(con)
                rows = con.execute(_SINCE, (self.settled,)).fetchall() if top > self.settled else []
            new = [r for r in rows if r[0] not in self._above] if self._above else rows
            if new or self._arrays is None:
                self._absorb(new)
                self._arrays = {name: np.asarray(vals, dtype=np.int64 if name == "id" else object)
                                for name, vals in self._cols.items()}
            self._settle(new, horizon)
            return self._arrays

    def _settle(self, new: list[tuple], horizon: tuple[int, int] | None) -> None:
        if new:
            self.last_id = max(self.last_id, max(r[0] for r in new))
        if horizon is None:
            self.settled, self._above = self.last_id, set()
            return
        self._above.update(r[0] for r in new)
        xmin, xmax = horizon
        for wait_xmax, wait_top in self._waits:
            if xmin >= wait_xmax:  # every transaction that could fill that gap has ended (and was read)
                self.settled = max(self.settled, wait_top)
        self._waits = [w for w in self._waits if xmin < w[0] and w[1] > self.settled]
        k = self.settled
        while k + 1 in self._above:
            k += 1
        self.settled = k
        self._above = {i for i in self._above if i > k}
        if self._above and not any(top >= self.last_id for _, top in self._waits):
            self._waits.append((xmax, self.last_id))

    def _absorb(self, rows: list[tuple]) -> None:
        slot, cols = self._slot, self._cols
        ids = cols["id"]
        for row in rows:
            key = (row[3], row[4])
            k = slot.get(key)
            if k is None:
                slot[key] = len(ids)
                for name, v in zip(COLUMNS, row):
                    cols[name].append(v)
            elif row[0] > ids[k]:  # rows may arrive out of id order: the newest id wins
                for name, v in zip(COLUMNS, row):
                    cols[name][k] = v
