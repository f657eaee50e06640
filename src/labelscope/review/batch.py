"""One action = one batch of events: the checked write behind every ReviewStore action.

``write_batch`` runs inside the store's transaction: it reads the latest stored value of each
changed (image, field), refuses the whole batch with StaleLabelError when any differs from what
the reviewer saw, and appends one event per change under one ``batch`` id. ``last_batch`` finds
what ``undo`` reverses; ``describe_undo`` says in words what an undo reverted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..dataset import Manifest
from .errors import ReviewError, StaleLabelError
from .fields import action_for, normalize

EVENT_COLUMNS = ["id", "at", "reviewer", "image_id", "field", "old", "new", "action", "note", "batch", "reverts",
                 "session"]
_INSERT = ("INSERT INTO events (at, reviewer, image_id, field, old, new, action, note, batch, reverts, session) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_NOT_UNDONE = ("reverts IS NULL AND batch NOT IN (SELECT reverts FROM events WHERE reverts IS NOT NULL) "
               "ORDER BY id DESC LIMIT 1")
_LAST_UNDONE_BATCH = "SELECT batch FROM events WHERE reviewer = ? AND " + _NOT_UNDONE
_LAST_UNDONE_BATCH_OF_SESSION = "SELECT batch FROM events WHERE reviewer = ? AND session = ? AND " + _NOT_UNDONE
_CHUNK = 500


@dataclass(frozen=True)
class Change:
    """One (image, field) -> new value; ``seen`` is the value the reviewer saw (None: unchecked)."""

    image_id: str
    field: str
    new: str
    seen: str | None = None
    note: str = ""


def current_values(con: Any, changes: list[Change]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Latest stored (value, reviewer, at) of each changed (image, field) that has events."""
    by_field: dict[str, list[str]] = {}
    for c in changes:
        by_field.setdefault(c.field, []).append(c.image_id)
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    for field, ids in by_field.items():
        for k in range(0, len(ids), _CHUNK):
            part = ids[k:k + _CHUNK]
            marks = ", ".join("?" * len(part))
            sql = ("SELECT e.image_id, e.new, e.reviewer, e.at FROM events e JOIN "
                   f"(SELECT MAX(id) AS id FROM events WHERE field = ? AND image_id IN ({marks}) "
                   "GROUP BY image_id) last ON e.id = last.id")
            for image_id, new, who, at in con.execute(sql, [field, *part]):
                out[(image_id, field)] = (new, who, at)
    return out


def write_batch(con: Any, changes: list[Change], *, at: str, reviewer: str, note: str, batch: str,
                base: Callable[[str, str], str], action: str | None = None, undo_of: str | None = None,
                session: str | None = None) -> list[dict]:
    """Check ``changes`` against the stored values and append them as one batch; return the events.

    ``base(image_id, field)`` is the dataset's own value where a pair has no event yet. Raises
    StaleLabelError (nothing written) when any change's ``seen`` differs from the current value.
    """
    current = current_values(con, changes)
    rows, conflicts = [], []
    for c in changes:
        cur = current.get((c.image_id, c.field))
        old = cur[0] if cur else base(c.image_id, c.field)
        if c.seen is not None and c.seen != old:
            who = f"{cur[1]} at {cur[2][:19].replace('T', ' ')} UTC" if cur else ""
            conflicts.append((c.image_id, c.field, c.seen, old, who))
        rows.append((at, reviewer, c.image_id, c.field, old, c.new, action or action_for(c.field, c.new),
                     c.note or note or (f"undo of batch {undo_of}" if undo_of else ""), batch, undo_of,
                     session or None))
    if conflicts:
        raise StaleLabelError(stale_message(conflicts, len(changes), undo=bool(undo_of)), conflicts)
    con.executemany(_INSERT, rows)
    ids = [r[0] for r in con.execute("SELECT id FROM events WHERE batch = ? ORDER BY id", (batch,))]
    return [dict(zip(EVENT_COLUMNS, (i, *row))) for i, row in zip(ids, rows)]


def last_batch(con: Any, reviewer: str, session: str | None) -> tuple[str, list[Change]] | None:
    """``reviewer``'s newest batch not yet undone (within ``session`` if given) and its changes,
    each as (image, field, value it had before, value written); None when there is none."""
    row = (con.execute(_LAST_UNDONE_BATCH_OF_SESSION, (reviewer, session)).fetchone() if session
           else con.execute(_LAST_UNDONE_BATCH, (reviewer,)).fetchone())
    if row is None:
        return None
    evs = con.execute("SELECT image_id, field, old, new FROM events WHERE batch = ? ORDER BY id",
                      (row[0],)).fetchall()
    return row[0], [Change(i, f, old, new) for i, f, old, new in evs]


def describe_undo(events: list[dict]) -> str:
    """What an undo's events reverted, in words: "gender female -> male on 7 image(s) (000123)"."""
    if not events:
        return "nothing to undo"
    parts: dict[tuple[str, str, str], set[str]] = {}
    for e in events:  # an undo event's old is the undone value, its new the restored one
        parts.setdefault((str(e["field"]), str(e["old"]), str(e["new"])), set()).add(str(e["image_id"]))
    said = []
    for (field, undone, restored), ids in list(parts.items())[:4]:
        what = next(iter(ids)) if len(ids) == 1 else f"{len(ids)} images"
        said.append(f"{field} back from {undone!r} to {restored!r} on {what}")
    more = f" and {len(parts) - 4} more" if len(parts) > 4 else ""
    return "undid " + "; ".join(said) + more


def loose(manifest: Manifest, field: str, value: Any) -> str:
    """A seen value in stored form, without refusing values the dataset itself may hold."""
    try:
        return normalize(manifest, field, value)
    except ReviewError:
        return "" if value is None else str(value).strip()


def seen_values(ids: list[str], field: str, expected_old: Any, manifest: Manifest) -> dict[str, str]:
    """What the reviewer saw of ``field`` per image: one value for all, or a dict image_id -> value."""
    if expected_old is None:
        return {}
    if isinstance(expected_old, dict):
        return {i: loose(manifest, field, expected_old[i]) for i in ids if i in expected_old}
    value = loose(manifest, field, expected_old)
    return {i: value for i in ids}


def stale_message(conflicts: list[tuple[str, str, str, str, str]], total: int, *, undo: bool) -> str:
    """The StaleLabelError text: who changed which image to what, against what the reviewer saw."""
    head = ("cannot undo: " if undo else "") + (
        f"{len(conflicts)} of {total} image(s) changed since you looked; nothing was written. ")
    lines = [f"{image_id}: {field} was changed to {cur!r} by {who} (you saw {seen!r})" if who else
             f"{image_id}: {field} is {cur!r} in the dataset (you saw {seen!r})"
             for image_id, field, seen, cur, who in conflicts[:5]]
    more = f"; and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
    return head + "; ".join(lines) + more + ". Reload and try again."
