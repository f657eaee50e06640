"""Turning a reviewer's answer to one suspect into review-store events, and what counts as reviewed.

The Queue page calls these; they are plain functions so the mapping is tested without
Streamlit. Every function returns the events written (the store's own return value).

- accept: the suggestion becomes the label (a person's gender or age for all 7 photos, a
  photo's mask, an ImageFolder label, the mask swap); for duplicates, outliers and bad
  images, which have no better label, accepting means excluding the image from training;
- keep: the labels were looked at and are right (``confirm``);
- exclude: keep the image(s) out of training;
- relabel: a value the reviewer chose.
"""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from ..dataset import Manifest
from ..dataset.mask import AGE_FOR_GROUP  # noqa: F401  (re-exported: the Queue page's default age)

# age written when a reviewer accepts an age-group suggestion without typing an age
EXCLUDE_ON_ACCEPT = ("duplicate", "quality", "outlier")


def item_images(row: Any, manifest: Manifest) -> list[str]:
    """The images a suspect concerns: its image, its ``images`` list, or the person's photos."""
    ids = [i for i in str(value_of(row, "images")).split(";") if i]
    if value_of(row, "image_id"):
        ids = [str(value_of(row, "image_id"))] + [i for i in ids if i != value_of(row, "image_id")]
    if value_of(row, "issue") == "person" and value_of(row, "field") in ("gender", "age"):
        df = manifest.df
        ids = df.loc[df["group_id"].astype(str) == str(value_of(row, "person")), "image_id"].tolist()
    return ids


def seen_values(row: Any, manifest: Manifest) -> dict[str, dict[str, str]]:
    """What the reviewer sees on a card: ``{field: {image_id: value}}`` for every label field of
    every image the suspect concerns, taken from ``manifest`` (the ``current_labels`` the card was
    drawn from). Passed to the decision functions so a write made on stale values is refused."""
    ids = list(dict.fromkeys(item_images(row, manifest) + [i for i, _ in mask_moves(row)]
                             + [i for i in str(value_of(row, "images")).split(";") if i]))
    df = manifest.df
    sel = df[df["image_id"].isin(ids)]
    return {f: dict(zip(sel["image_id"].astype(str), sel[f].astype(str))) for f in manifest.fields if f in sel}


def _seen_of(seen: dict[str, dict[str, str]] | None, field: str, ids: list[str] | None = None) -> Any:
    if not seen or field not in seen:
        return None
    values = seen[field]
    return {i: values[i] for i in ids if i in values} if ids is not None else dict(values)


def field_value(manifest: Manifest, field: str, suggested: str) -> Any:
    """The value of ``field`` a suggestion about one of its factors sets (age group ``>=60`` -> age 65)."""
    factor = next((f for f in manifest.schema.factors if f.field == field), None)
    return suggested if factor is None else factor.field_value(suggested)


def can_accept(row: Any) -> bool:
    return value_of(row, "issue") in EXCLUDE_ON_ACCEPT or bool(value_of(row, "suggested"))


def accept(store: Any, row: Any, *, reviewer: str, manifest: Manifest, age: int | None = None,
           seen: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """Apply the suspect's suggestion (see the module docstring).

    ``seen`` (``seen_values`` of the card as drawn) is what the reviewer looked at: a write is
    refused, naming who changed what, when the labels moved since.
    """
    issue, field = value_of(row, "issue"), value_of(row, "field")
    suggested, given = str(value_of(row, "suggested")), value_of(row, "given")
    note = f"queue: accepted {issue} suggestion"
    if issue in EXCLUDE_ON_ACCEPT:
        return store.exclude([value_of(row, "image_id")], reviewer=reviewer, manifest=manifest, note=note)
    if not suggested:
        raise ValueError(f"suspect {value_of(row, 'rank')} has no suggestion to accept")
    if issue == "person" and field in manifest.person_fields:
        value = int(age) if age is not None and manifest.schema.is_int(field) else field_value(manifest, field, suggested)
        return store.relabel_person(value_of(row, "person"), field, value, reviewer=reviewer, manifest=manifest,
                                    note=note, expected_old=_seen_of(seen, field))
    if issue == "person" and field == "mask":
        return _accept_mask_assignment(store, row, reviewer=reviewer, manifest=manifest, note=note, seen=seen)
    image_id = str(value_of(row, "image_id"))
    shown = (_seen_of(seen, field or "label", [image_id]) or {}).get(image_id)
    return store.relabel([image_id], field or "label", suggested, reviewer=reviewer,
                         manifest=manifest, expected_old=given if shown is None else shown, note=note)


def keep(store: Any, row: Any, *, reviewer: str, manifest: Manifest) -> list[dict]:
    """Confirm the current labels of every image the suspect concerns."""
    return store.confirm(item_images(row, manifest), reviewer=reviewer, manifest=manifest, note="queue: kept")


def exclude(store: Any, row: Any, *, reviewer: str, manifest: Manifest) -> list[dict]:
    """Exclude the suspect's image (a person item: the images it names)."""
    ids = [value_of(row, "image_id")] if value_of(row, "image_id") else item_images(row, manifest)
    return store.exclude(ids, reviewer=reviewer, manifest=manifest, note="queue: excluded")


def relabel(store: Any, row: Any, field: str, value: Any, *, reviewer: str, manifest: Manifest,
            seen: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """Set ``field`` to the reviewer's ``value``: for the person when the field belongs to the person.
    ``seen``: as for ``accept``."""
    if field in manifest.person_fields and value_of(row, "person"):
        return store.relabel_person(value_of(row, "person"), field, value, reviewer=reviewer, manifest=manifest,
                                    note="queue: relabelled", expected_old=_seen_of(seen, field))
    ids = [value_of(row, "image_id")] if value_of(row, "image_id") else item_images(row, manifest)
    return store.relabel(ids, field, value, reviewer=reviewer, manifest=manifest, note="queue: relabelled",
                         expected_old=_seen_of(seen, field, ids))


def mask_moves(row: Any) -> list[tuple[str, str]]:
    """(image_id, new mask) pairs of a person mask suggestion ``"a.jpg=not_wear, b.jpg=incorrect"``."""
    ids = [i for i in str(value_of(row, "images")).split(";") if i]
    by_name = {PurePosixPath(i).name: i for i in ids}
    moves = []
    for part in str(value_of(row, "suggested")).split(","):
        name, _, value = part.strip().partition("=")
        if name in by_name and value:
            moves.append((by_name[name], value))
    return moves


def _accept_mask_assignment(store, row, *, reviewer, manifest, note, seen=None) -> list[dict]:
    from ..review import Change

    moves = mask_moves(row)
    if not moves:
        raise ValueError(f"cannot read the mask suggestion {value_of(row, 'suggested')!r}")
    shown = _seen_of(seen, "mask")
    current = shown if shown is not None else manifest.df.set_index("image_id")["mask"].astype(str).to_dict()
    pair = sorted((str(current.get(i)), v) for i, v in moves)
    if pair == [("incorrect", "not_wear"), ("not_wear", "incorrect")]:
        return store.swap_masks(value_of(row, "person"), reviewer=reviewer, manifest=manifest, note=note,
                                seen={i: current.get(i) for i, _ in moves})
    return store.apply_changes([Change(i, "mask", v, str(current.get(i))) for i, v in moves], reviewer=reviewer,
                               manifest=manifest, note=note)


def reviewed(table: pd.DataFrame, current: Manifest) -> np.ndarray:
    """Bool per suspect: every image it concerns is confirmed, excluded or relabelled today."""
    df = current.df
    state = np.zeros(len(df), dtype=bool)
    for col in ("confirmed", "excluded", "changed"):
        if col in df.columns:
            state |= df[col].to_numpy(dtype=bool)
    done = dict(zip(df["image_id"], state))
    out = np.zeros(len(table), dtype=bool)
    for k, row in enumerate(table.itertuples(index=False)):
        ids = item_images(row, current)
        out[k] = bool(ids) and all(done.get(i, False) for i in ids)
    return out


def value_of(row: Any, name: str) -> Any:
    """A suspect row's field (dict, Series or namedtuple); "" for a missing or NaN value."""
    v = row.get(name, "") if isinstance(row, (dict, pd.Series)) else getattr(row, name, "")
    return "" if v is None or (isinstance(v, float) and v != v) else v


def duplicate_pair(row: Any) -> tuple[str, str]:
    """(this copy, the other one) of a duplicate suspect: its image and the group's first other member."""
    this = str(value_of(row, "image_id"))
    others = [i for i in str(value_of(row, "images")).split(";") if i and i != this]
    if not this or not others:
        raise ValueError(f"suspect {value_of(row, 'rank')} is not a duplicate pair")
    return this, others[0]


def keep_both(store: Any, row: Any, *, reviewer: str, manifest: Manifest) -> list[dict]:
    """Both copies stay, their labels confirmed (a duplicate that is fine as it is)."""
    return store.confirm(list(duplicate_pair(row)), reviewer=reviewer, manifest=manifest,
                         note="queue: duplicate, kept both")


def exclude_copy(store: Any, row: Any, which: str, *, reviewer: str, manifest: Manifest) -> list[dict]:
    """Exclude ``which`` ("this" or "other") copy of a duplicate pair from training."""
    this, other = duplicate_pair(row)
    target = this if which == "this" else other
    return store.exclude([target], reviewer=reviewer, manifest=manifest,
                         note=f"queue: duplicate, excluded {which} copy")


def match_other(store: Any, row: Any, *, reviewer: str, manifest: Manifest,
                seen: dict[str, dict[str, str]] | None = None) -> list[dict]:
    """Give this copy every label field of the other copy (one event per field that differs);
    ``seen``: as for ``accept`` (the values both copies showed)."""
    from ..review import Change

    this, other = duplicate_pair(row)
    df = manifest.df.set_index("image_id")

    def shown(i: str, f: str) -> str:
        v = (seen or {}).get(f, {}).get(i)
        return str(df.at[i, f]) if v is None else v

    changes = [Change(this, f, shown(other, f), shown(this, f)) for f in manifest.fields
               if shown(this, f) != shown(other, f)]
    if not changes:
        return []
    return store.apply_changes(changes, reviewer=reviewer, manifest=manifest, note="queue: duplicate, relabelled to match")


def suggestion_text(row: Any) -> str:
    """What accepting a suspect will do, in words (an empty string when it has nothing to accept)."""
    issue = value_of(row, "issue")
    if issue == "duplicate":
        return "exclude this copy from training"
    if issue in EXCLUDE_ON_ACCEPT:
        return "exclude this image from training"
    return str(value_of(row, "suggested"))


def choose_position(ranks: list[int], done: Any, current: int | None, *, pinned: bool) -> int | None:
    """Index of the card to show in a filtered queue: ``current`` (a rank) while it is open or the
    reviewer navigated to it (``pinned``), else the first unreviewed one; None when all are done."""
    where = {int(r): k for k, r in enumerate(ranks)}
    if current is not None and int(current) in where and (pinned or not done[where[int(current)]]):
        return where[int(current)]
    open_ = [k for k in range(len(ranks)) if not done[k]]
    return open_[0] if open_ else None


def next_open(done: Any, pos: int) -> int | None:
    """Index of the first unreviewed card after ``pos`` (wrapping round), None when none is open."""
    n = len(done)
    for step in range(1, n + 1):
        k = (pos + step) % n
        if not done[k]:
            return k
    return None
