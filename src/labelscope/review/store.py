"""The review store: append-only decision events, one short transaction per action.

Events are ``(id, at, reviewer, image_id, field, old, new, action, note, batch, reverts)``.
``field`` is a label field (mask layout: gender, age, race, mask; other layouts: label) or a
state (flagged, excluded, confirmed, stored as "0"/"1"). One action writes one ``batch``, in
one transaction; ``undo`` appends the inverse events with ``reverts`` = that batch. Nothing is
ever updated or deleted; today's labels are derived from the manifest plus the latest event of
each (image, field).

    store = open_review_store(".labelscope")
    store.relabel([image_id], "mask", "incorrect", reviewer="ana", manifest=m, expected_old="wear")
    store.undo("ana")
    today = store.current_labels(m)
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from ..dataset import Manifest
from ..workspace import Workspace
from . import db, pg
from .batch import EVENT_COLUMNS, Change, describe_undo, last_batch, loose, seen_values, write_batch
from .errors import ReviewError, StaleLabelError
from .fold import LatestEvents
from .fields import STATE_FIELDS, base_value, check_note, check_reviewer, normalize
from .labels import apply_events, label_changes

__all__ = ["EVENT_COLUMNS", "Change", "ReviewStore", "StaleLabelError", "describe_undo", "open_review_store"]


def open_review_store(workspace: Any, *, db_url: str | None = None,
                      manifest: Manifest | None = None, read_only: bool = False) -> "ReviewStore":
    """Open (creating if needed) the review store of a workspace.

    Parameters
    ----------
    workspace : path, Workspace or Settings
        The dataset's workspace; the database is ``Workspace.review_db`` unless a URL is given.
    db_url : str, optional
        ``sqlite:///path`` or ``postgresql://user:pw@host:port/db``; defaults to Settings.db_url,
        then ``$LABELSCOPE_DB`` (or ``$LABELSCOPE_DB_URL``).
    manifest : Manifest, optional
        Bound for validating image ids and values when an action is not given one.
    read_only : bool
        Only read (``review log``, ``export``): works in a read-only workspace, creates nothing
        (a missing database is an empty log), and any write is refused.

    Raises StoreUnavailable (a ReviewError) naming the file and how to recover when the
    database is damaged, a directory or cannot be opened; the file is left untouched.
    """
    url = db_url or getattr(workspace, "db_url", "") or db.env_db_url()
    if pg.is_postgres(url):
        database = pg.PgDatabase(url, read_only=read_only)
        database.create()
        return ReviewStore(database, manifest=manifest, read_only=read_only)
    if url:
        path = db.sqlite_path(url)
    else:
        ws = getattr(workspace, "workspace", workspace)
        path = Workspace.of(ws).review_db
    db.create(path, read_only=read_only)
    return ReviewStore(path, manifest=manifest, read_only=read_only)


class ReviewStore:
    """Append-only decisions of every reviewer of one dataset (see the module docstring)."""

    def __init__(self, path: "str | os.PathLike[str] | db.Database | pg.PgDatabase", *,
                 manifest: Manifest | None = None, read_only: bool = False):
        if isinstance(path, (db.Database, pg.PgDatabase)):
            self._db = path
        else:
            self._db = db.Database(Path(path), read_only=read_only)
        # the SQLite file, or the PostgreSQL URL with its password masked
        self.path = getattr(self._db, "path", None) or self._db.name
        self.manifest = manifest
        self._index_key: object = None
        self._index: dict[str, int] = {}
        self._latest = LatestEvents(self._db)
        self.session: str | None = None

    def in_session(self, session: str | None) -> "ReviewStore":
        """This store with every write tagged with ``session`` (one app browser session), and
        ``undo`` limited to that session's own batches. Shares the connection and caches."""
        import copy

        bound = copy.copy(self)
        bound.session = session or None
        return bound

    def __repr__(self) -> str:
        return f"ReviewStore({str(self.path)!r})"

    def close(self) -> None:
        """Close this process's connection (reopened on the next call)."""
        self._db.close()

    def __enter__(self) -> "ReviewStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- image and selection actions -------------------------------------------------
    def flag(self, image_ids: list[str], *, reviewer: str, note: str = "",
             manifest: Manifest | None = None, session: str | None = None) -> list[dict]:
        """Mark images for a second look. Returns the events written."""
        return self._set_state(image_ids, "flagged", "1", reviewer, note, manifest, session)

    def unflag(self, image_ids: list[str], *, reviewer: str, note: str = "",
               manifest: Manifest | None = None, session: str | None = None) -> list[dict]:
        return self._set_state(image_ids, "flagged", "0", reviewer, note, manifest, session)

    def confirm(self, image_ids: list[str], *, reviewer: str, note: str = "",
                manifest: Manifest | None = None, session: str | None = None) -> list[dict]:
        """Record that the current labels were looked at and are right."""
        return self._set_state(image_ids, "confirmed", "1", reviewer, note, manifest, session)

    def exclude(self, image_ids: list[str], *, reviewer: str, note: str = "",
                manifest: Manifest | None = None, session: str | None = None) -> list[dict]:
        """Keep images out of training (they stay in the export with ``excluded=1``)."""
        return self._set_state(image_ids, "excluded", "1", reviewer, note, manifest, session)

    def include(self, image_ids: list[str], *, reviewer: str, note: str = "",
                manifest: Manifest | None = None, session: str | None = None) -> list[dict]:
        return self._set_state(image_ids, "excluded", "0", reviewer, note, manifest, session)

    def relabel(self, image_ids: list[str], field: str, new: Any, *, reviewer: str, note: str = "",
                expected_old: Any = None, manifest: Manifest | None = None,
                session: str | None = None) -> list[dict]:
        """Set ``field`` to ``new`` on every image, in one transaction.

        ``expected_old`` is what the reviewer saw: one value for all images or a dict
        image_id -> value. When any image's current value differs, nothing is written and
        StaleLabelError says who changed it to what.
        """
        m = self._need_manifest(manifest, "relabel")
        ids = self._check_ids(image_ids, m)
        if field in STATE_FIELDS:
            raise ReviewError(f"{field} is a state, not a label: use flag/exclude/confirm")
        value = normalize(m, field, new)
        seen = seen_values(ids, field, expected_old, m)
        return self._commit([Change(i, field, value, seen.get(i)) for i in ids], reviewer, note, m, session=session)

    def apply_changes(self, changes: Iterable[Change], *, reviewer: str, manifest: Manifest,
                      note: str = "", session: str | None = None) -> list[dict]:
        """Several (image, field, value) changes as one action: all written or none."""
        changes = list(changes)
        ids = self._check_ids([c.image_id for c in changes], manifest, dedupe=False)
        seen_pairs: set[tuple[str, str]] = set()
        out = []
        for i, c in zip(ids, changes):
            if (i, c.field) in seen_pairs:
                raise ReviewError(f"{c.field} of {i} is changed twice in one action")
            seen_pairs.add((i, c.field))
            seen = None if c.seen is None else loose(manifest, c.field, c.seen)
            out.append(Change(i, c.field, normalize(manifest, c.field, c.new), seen, check_note(c.note)))
        return self._commit(out, reviewer, note, manifest, session=session)

    # ---- person (group) actions -------------------------------------------------------
    def relabel_person(self, group_id: str, field: str, new: Any, *, reviewer: str, manifest: Manifest,
                       note: str = "", expected_old: Any = None, session: str | None = None) -> list[dict]:
        """Set a person's (group's) ``field`` on all of its images in one transaction."""
        ids = self._group_ids(group_id, manifest)
        allowed = manifest.person_fields or manifest.fields
        if field not in allowed:
            raise ReviewError(f"{field!r} is not a person-level field; expected one of {', '.join(allowed)}")
        return self.relabel(ids, field, new, reviewer=reviewer, note=note, expected_old=expected_old,
                            manifest=manifest, session=session)

    def swap_masks(self, group_id: str, *, reviewer: str, manifest: Manifest, note: str = "",
                   seen: dict[str, Any] | None = None, session: str | None = None) -> list[dict]:
        """Exchange the ``incorrect`` and ``not_wear`` photos the reviewer saw (one transaction).

        Not a toggle: the swap is the explicit target state "the photo seen as incorrect is
        not_wear, the one seen as not_wear is incorrect", and each write carries what was seen.
        ``seen`` maps image_id -> mask as the reviewer saw it (default: the masks of
        ``manifest``, so pass the ``current_labels`` the reviewer looked at). When someone
        changed either photo since, nothing is written and StaleLabelError names who.
        """
        if not manifest.schema.can_swap_masks:
            raise ReviewError("swapping incorrect/not_wear needs the mask layout")
        ids = self._group_ids(group_id, manifest)
        if seen is None:
            index = self._row_index(manifest)
            seen = {i: str(manifest.df["mask"].iat[index[i]]) for i in ids}
        vals = {i: loose(manifest, "mask", seen[i]) for i in ids if i in seen}
        inc = [i for i in ids if vals.get(i) == "incorrect"]
        nw = [i for i in ids if vals.get(i) == "not_wear"]
        if len(inc) != 1 or len(nw) != 1:
            raise ReviewError(f"person {group_id} has {len(inc)} incorrect and {len(nw)} not_wear photo(s); "
                              "a swap needs exactly one of each")
        changes = [Change(inc[0], "mask", "not_wear", "incorrect"), Change(nw[0], "mask", "incorrect", "not_wear")]
        return self._commit(changes, reviewer, note or "swap incorrect <-> not_wear", manifest, session=session)

    # ---- undo ---------------------------------------------------------------------------
    def undo(self, reviewer: str, *, session: str | None = None) -> list[dict]:
        """Reverse ``reviewer``'s last action not yet undone, by appending its inverse events.

        ``session`` (the app's per-browser-session id) narrows it to the batches written in that
        session: another person typing the same name elsewhere cannot undo this one's work.
        Returns the events written ([] when there is nothing to undo); ``describe_undo`` says
        what they undid. Refused with StaleLabelError when someone changed those images since.
        """
        reviewer = check_reviewer(reviewer)
        session = session or self.session
        undone: dict[str, str] = {}

        def plan(con) -> list[Change]:
            found = last_batch(con, reviewer, session)
            if found is None:
                return []
            undone["batch"], changes = found
            return changes

        return self._commit([], reviewer, "", None, plan=plan, action="undo", reverts=undone, session=session)

    # ---- reads --------------------------------------------------------------------------
    def events(self, *, reviewer: str | None = None, since_id: int = 0) -> pd.DataFrame:
        """Every event in id order (optionally one reviewer's, or after ``since_id``)."""
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE id > ?"
        params: list[Any] = [int(since_id)]
        if reviewer:
            sql += " AND reviewer = ?"
            params.append(reviewer)
        with self._db.reading() as con:
            rows = con.execute(sql + " ORDER BY id", params).fetchall()
        df = pd.DataFrame([tuple(r) for r in rows], columns=EVENT_COLUMNS, dtype=object)
        df["reverts"] = df["reverts"].fillna("")
        df["session"] = df["session"].fillna("")
        return df.astype({"id": "int64"})

    def version(self) -> int:
        """The newest event id (0 when empty): changes whenever anything was decided."""
        with self._db.reading() as con:
            return int(con.execute("SELECT MAX(id) FROM events").fetchone()[0] or 0)

    def latest(self) -> pd.DataFrame:
        """The latest event of each (image_id, field): columns id, at, reviewer, image_id, field, new."""
        return pd.DataFrame(self._latest.arrays())

    def snapshot(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The latest events and the log's statistics, both as of the same event id.

        Returns ``(latest, stats)``; stats holds count, first_id, last_id, first_at, last_at,
        and event counts by action and by reviewer, all up to ``last_id``.
        """
        with self._latest.lock:
            arrays = self._latest.arrays()
            last = self._latest.last_id
        with self._db.snapshot() as con:
            n, first_id, first_at, last_at = con.execute(
                "SELECT COUNT(*), MIN(id), MIN(at), MAX(at) FROM events WHERE id <= ?", (last,)).fetchone()
            by = {col: dict(con.execute(f"SELECT {col}, COUNT(*) FROM events WHERE id <= ? GROUP BY {col} "
                                        f"ORDER BY {col}", (last,)).fetchall()) for col in ("action", "reviewer")}
        stats = {"count": int(n), "first_id": int(first_id or 0), "last_id": int(last),
                 "first_at": first_at or "", "last_at": last_at or "", "actions": by["action"],
                 "reviewers": by["reviewer"]}
        return pd.DataFrame(arrays), stats

    def current_labels(self, manifest: Manifest) -> Manifest:
        """Today's labels: ``manifest`` (as loaded from disk) plus every decision.

        Adds ``flagged``, ``excluded``, ``confirmed``, ``changed`` (bool) and ``last_reviewer``;
        for the mask layout ``age_group``, ``class_index`` and ``label`` are recomputed.
        """
        return apply_events(manifest, self._latest.arrays())

    def changes(self, manifest: Manifest) -> pd.DataFrame:
        """What differs from the dataset on disk: image_id, group_id, field, before, after, reviewer, at."""
        return label_changes(manifest, self.latest())

    # ---- internals ----------------------------------------------------------------------
    def _set_state(self, image_ids, field, value, reviewer, note, manifest, session=None) -> list[dict]:
        m = manifest if manifest is not None else self.manifest
        ids = self._check_ids(image_ids, m)
        return self._commit([Change(i, field, value) for i in ids], reviewer, note, m, session=session)

    def _need_manifest(self, manifest: Manifest | None, what: str) -> Manifest:
        m = manifest if manifest is not None else self.manifest
        if m is None:
            raise ReviewError(f"{what} needs the dataset's manifest to check ids and values")
        return m

    def _row_index(self, manifest: Manifest) -> dict[str, int]:
        if self._index_key is not manifest.df:
            self._index = {k: n for n, k in enumerate(manifest.df["image_id"].tolist())}
            self._index_key = manifest.df
        return self._index

    def _check_ids(self, image_ids, manifest: Manifest | None, *, dedupe: bool = True) -> list[str]:
        if isinstance(image_ids, str) or not hasattr(image_ids, "__iter__"):
            raise ReviewError("image_ids must be a list of image ids, not a single string")
        ids = [str(i) for i in image_ids]
        if dedupe:
            ids = list(dict.fromkeys(ids))
        if not ids:
            raise ReviewError("no image selected")
        if manifest is not None:
            index = self._row_index(manifest)
            unknown = [i for i in ids if i not in index]
            if unknown:
                more = f" (and {len(unknown) - 3} more)" if len(unknown) > 3 else ""
                raise ReviewError(f"unknown image id(s) {', '.join(map(repr, unknown[:3]))}{more}: "
                                  "not in this dataset")
        elif any(not i.strip() for i in ids):
            raise ReviewError("empty image id")
        return ids

    def _group_ids(self, group_id: str, manifest: Manifest) -> list[str]:
        gid = str(group_id)
        ids = manifest.df.loc[manifest.df["group_id"].astype(str) == gid, "image_id"].tolist()
        if not gid or not ids:
            raise ReviewError(f"unknown person/group {group_id!r}: no image of this dataset has it")
        return ids

    def _base(self, manifest: Manifest | None, image_id: str, field: str) -> str:
        if field in STATE_FIELDS:
            return "0"
        if manifest is None:
            raise ReviewError(f"no manifest to read the current {field} of {image_id}")
        return base_value(manifest, self._row_index(manifest)[image_id], field)

    def _commit(self, changes: list[Change], reviewer: str, note: str, manifest: Manifest | None, *,
                plan: Callable[[Any], list[Change]] | None = None, action: str | None = None,
                reverts: dict[str, str] | None = None, session: str | None = None) -> list[dict]:
        """Check and write one action's events in one transaction; return them."""
        reviewer = check_reviewer(reviewer)
        note = check_note(note)
        session = session or self.session
        batch = uuid.uuid4().hex
        at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        with self._db.transaction() as con:
            if plan is not None:
                changes = plan(con)
            if not changes:
                return []
            return write_batch(con, changes, at=at, reviewer=reviewer, note=note, batch=batch,
                               base=lambda image_id, field: self._base(manifest, image_id, field),
                               action=action, undo_of=(reverts or {}).get("batch"), session=session)
