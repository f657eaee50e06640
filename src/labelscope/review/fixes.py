"""A CSV of fixes (the list of known mislabeled ids a team shares), applied all rows or none.

Columns: ``image_id`` or ``person`` (one of them per row), ``field``, ``new``; optional
``old`` (the value the author saw: refused when it moved since) and ``note``. ``field`` is a
label field (mask layout: gender, age, race, mask; others: label) or a state (flagged,
excluded, confirmed with ``new`` 1/0). A ``person`` row applies to all of that person's photos.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..dataset import Manifest
from ..dataset.csvio import read_csv_rows
from .errors import ReviewError
from .fields import STATE_FIELDS, normalize
from .store import Change, ReviewStore

MAX_SHOWN = 20


def read_fixes(path: str | os.PathLike[str], manifest: Manifest) -> list[Change]:
    """Parse and validate every row; raise ReviewError listing every bad row by line number."""
    p = Path(path)
    rows, header, err = read_csv_rows(p)
    if err is not None:
        raise ReviewError(str(err))
    missing = [c for c in ("field", "new") if c not in header]
    if missing or not ({"image_id", "person"} & set(header)):
        raise ReviewError(f"{p.name}: needs columns image_id or person, field, new (optional old, note); "
                          f"found {', '.join(header) or 'none'}")
    ids = set(manifest.df["image_id"])
    groups = manifest.df.groupby(manifest.df["group_id"].astype(str))["image_id"].apply(list).to_dict()
    problems: list[str] = []
    changes: list[Change] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows:
        image_id = (row.get("image_id") or "").strip()
        person = (row.get("person") or "").strip()
        field = (row.get("field") or "").strip()
        old = row.get("old")
        old = old.strip() if old is not None and old.strip() != "" else None
        note = (row.get("note") or "").strip()
        try:
            if bool(image_id) == bool(person):
                raise ReviewError("give exactly one of image_id or person")
            value = normalize(manifest, field, row.get("new"))
            if person:
                if person not in groups or not person:
                    raise ReviewError(f"unknown person {person!r}")
                if manifest.person_fields and field not in manifest.person_fields and field not in STATE_FIELDS:
                    raise ReviewError(f"{field} is not a person-level field; give image_id rows for it")
                targets = groups[person]
            else:
                if image_id not in ids:
                    raise ReviewError(f"unknown image id {image_id!r}")
                targets = [image_id]
        except ReviewError as e:
            problems.append(f"{p.name}:{line}: {e}")
            continue
        for t in targets:
            key = (t, field)
            if key in first_line:
                problems.append(f"{p.name}:{line}: {field} of {t} is already changed on line {first_line[key]}")
                continue
            first_line[key] = line
            changes.append(Change(t, field, value, old, note))
    if problems:
        shown = "\n  ".join(problems[:MAX_SHOWN])
        more = f"\n  … and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        raise ReviewError(f"{len(problems)} bad row(s); nothing was applied:\n  {shown}{more}")
    if not changes:
        raise ReviewError(f"{p.name}: no fixes listed")
    return changes


def apply_fixes(path: str | os.PathLike[str], store: ReviewStore, manifest: Manifest, *,
                reviewer: str) -> list[dict]:
    """Validate every row, then write them all as one action (one transaction). Returns the events."""
    changes = read_fixes(path, manifest)
    return store.apply_changes(changes, reviewer=reviewer, manifest=manifest, note=f"from {Path(path).name}")
