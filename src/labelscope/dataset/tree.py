"""Where each image of a corrected dataset goes, in its own layout (the plan ``export_tree`` links).

A layout says how a file's place encodes its labels: the competition layout names a photo by
its mask (``mask1..5``, ``incorrect_mask``, ``normal``) inside a person folder whose name
encodes gender, race and age (``000001_female_Asian_45``), and lists the person in
``train.csv``; an ImageFolder puts each image in its class folder; a CSV manifest lists path and
label. ``plan_tree`` turns today's labels (a ``current_labels`` Manifest: label fields plus
``excluded``) into ``(source, destination)`` pairs and the text files to write, so a competitor's
own training code runs on the corrected tree unchanged.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pandas as pd

from .base import Manifest

PERSON_FOLDER = re.compile(r"^(?P<id>[^_]+)_(?P<gender>male|female)_(?P<race>.+)_(?P<age>\d+)$")
MASK_STEMS = {"incorrect": ("incorrect_mask",), "not_wear": ("normal",),
              "wear": ("mask1", "mask2", "mask3", "mask4", "mask5")}


@dataclass
class TreePlan:
    """``links``: destination (POSIX, relative to the tree) -> source image_id; ``files``: name -> bytes.

    ``left_out`` lists ``(image_id, reason)`` for images the layout cannot place (excluded ones
    are counted in ``excluded``, not listed); ``renamed`` maps old -> new group folder names.
    """

    links: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    excluded: int = 0


def person_folder(path: str, gender: str, race: str, age: int) -> str:
    """``path`` with the gender, race and age it encodes replaced (unchanged when it encodes none)."""
    m = PERSON_FOLDER.match(path)
    if not m:
        return path
    return f"{m['id']}_{gender}_{race}_{int(age)}"


def plan_tree(current: Manifest, people: pd.DataFrame | None = None) -> TreePlan:
    """The corrected tree of ``current`` (a ``current_labels`` result) in the source layout.

    Parameters
    ----------
    current : Manifest
        Today's labels; images with ``excluded`` true are left out.
    people : DataFrame, optional
        Mask layout: one row per person (``id, gender, race, age, path``) with the values the
        tree should carry (``review.export.person_frame``); required for that layout.
    """
    shape = current.schema.tree
    if shape == "mask":
        if people is None:
            raise ValueError("the mask layout's tree needs the person table (id, gender, race, age, path)")
        return _plan_mask(current, people)
    if shape == "folder":
        return _plan_folder(current)
    if shape == "attrs":
        return _plan_attrs(current)
    return _plan_csv(current)


def _kept(current: Manifest, plan: TreePlan) -> pd.DataFrame:
    df = current.df
    excluded = df["excluded"].astype(bool) if "excluded" in df.columns else pd.Series(False, index=df.index)
    plan.excluded = int(excluded.sum())
    return df[~excluded]


def _plan_mask(current: Manifest, people: pd.DataFrame) -> TreePlan:
    plan = TreePlan()
    kept = _kept(current, plan)
    by_person = {str(k): g for k, g in kept.groupby(kept["group_id"].astype(str), sort=False)}
    rows = []
    for p in people.itertuples(index=False):
        photos = by_person.get(str(p.id))
        if photos is None or photos.empty:
            continue
        folder = person_folder(str(p.path), str(p.gender), str(p.race), int(p.age))
        if folder != p.path:
            plan.renamed[str(p.path)] = folder
        for image_id, stem in _mask_names(photos, plan.left_out).items():
            suffix = PurePosixPath(image_id).suffix
            plan.links[f"images/{folder}/{stem}{suffix}"] = image_id
        rows.append({"id": p.id, "gender": p.gender, "race": p.race, "age": int(p.age), "path": folder})
    plan.files["train.csv"] = _csv_bytes(["id", "gender", "race", "age", "path"],
                                         [[r[c] for c in ("id", "gender", "race", "age", "path")] for r in rows])
    return plan


def _mask_names(photos: pd.DataFrame, left_out: list[tuple[str, str]]) -> dict[str, str]:
    """image_id -> file stem for one person's kept photos, by each photo's mask today.

    A photo whose mask did not change keeps its own stem; a moved one takes the first free
    stem of its new mask (a swap of incorrect and not_wear trades the two names). A photo for
    which no stem is free (two ``normal`` photos) cannot be placed and is left out, named.
    """
    ids = sorted(photos["image_id"].astype(str))
    masks = dict(zip(photos["image_id"].astype(str), photos["mask"].astype(str)))
    stems = {i: PurePosixPath(i).stem for i in ids}
    names = {i: stems[i] for i in ids if stems[i] in MASK_STEMS.get(masks[i], ())}
    taken = set(names.values())
    for i in ids:
        if i in names:
            continue
        free = [s for s in MASK_STEMS.get(masks[i], ()) if s not in taken]
        if not free:
            left_out.append((i, f"another photo of this person already takes the {masks[i]} file name"))
            continue
        names[i] = free[0]
        taken.add(free[0])
    return names


def _plan_folder(current: Manifest) -> TreePlan:
    plan = TreePlan()
    kept = _kept(current, plan)
    pairs = list(zip(kept["image_id"].astype(str), kept["label"].astype(str)))
    pairs.sort(key=lambda p: PurePosixPath(p[0]).parts[0] != p[1])  # images staying put keep their names
    for image_id, label in pairs:
        rest = PurePosixPath(*PurePosixPath(image_id).parts[1:])
        dest = f"{label}/{rest.as_posix()}"
        if dest in plan.links:
            dest = f"{label}/{rest.parent.as_posix() + '/' if str(rest.parent) != '.' else ''}" \
                   f"{rest.stem}__from_{PurePosixPath(image_id).parts[0]}{rest.suffix}"
        plan.links[dest] = image_id
    return plan


def _plan_csv(current: Manifest) -> TreePlan:
    plan = TreePlan()
    kept = _kept(current, plan)
    rows = list(zip(kept["image_id"].astype(str), kept["label"].astype(str), kept["group_id"].astype(str)))
    plan.links = {image_id: image_id for image_id, _, _ in rows}
    name = current.source.name if current.source.suffix.lower() == ".csv" else "labels.csv"
    plan.files[name] = _csv_bytes(["path", "label", "group"], rows)
    return plan


def _plan_attrs(current: Manifest) -> TreePlan:
    """The multi-attribute CSV (path, mask, gender, age, group) with today's values, images in place."""
    plan = TreePlan()
    kept = _kept(current, plan)
    plan.links = {i: i for i in kept["image_id"].astype(str)}
    rows = [[i, m, g, int(a), grp] for i, m, g, a, grp in zip(
        kept["image_id"].astype(str), kept["mask"].astype(str), kept["gender"].astype(str), kept["age"],
        kept["group_id"].astype(str))]
    plan.files[current.source.name] = _csv_bytes(["path", "mask", "gender", "age", "group"], rows)
    return plan


def _csv_bytes(header: list[str], rows: list) -> bytes:
    """Plain CSV for training code (values as they are: this file is read by code, not a spreadsheet)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")
