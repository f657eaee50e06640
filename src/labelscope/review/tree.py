"""The corrected dataset as a folder tree in the source layout, for any training code.

    labelscope export data/demo --tree data/demo-fixed

Competition layout: ``train.csv`` + ``images/<person>/<mask>.jpg`` with mask swaps and person
fixes applied (the person folder name ``000001_female_Asian_45`` carries the corrected values)
and excluded photos left out; ImageFolder: one folder per corrected class; CSV manifest: the
CSV with corrected labels beside the images. Files are hard links to the source images where
the filesystem allows, copies otherwise; the source is only read. The tree is built in a
temporary sibling folder and renamed into place, so a killed export leaves the previous tree
whole; a folder that is neither empty nor a previous tree is refused.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..dataset import Manifest
from ..dataset.tree import plan_tree
from .errors import ReviewError
from .labels import apply_events

MARKER = ".labelscope-tree.json"


@dataclass
class TreeResult:
    """What ``export_tree`` wrote: counts, how files were made, and what could not be placed."""

    out_dir: Path
    images: int
    linked: int
    copied: int
    excluded: int
    left_out: list[tuple[str, str]] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    inconsistent: pd.DataFrame = field(default_factory=pd.DataFrame)
    last_event_id: int = 0


def inconsistent_persons(current: Manifest) -> pd.DataFrame:
    """Persons whose photos disagree today on a person field (gender, age, race).

    Returns one row per (person, field) with columns ``group_id``, ``field``, ``values``
    (``"female ×6, male ×1"``), most common first; empty for layouts without person fields.
    """
    cols = ["group_id", "field", "values"]
    df = current.df
    if not current.person_fields or df.empty:
        return pd.DataFrame(columns=cols)
    if "excluded" in df.columns:
        df = df[~df["excluded"].astype(bool)]
    gid = df["group_id"].astype(str)
    df = df[gid != ""]
    rows = []
    for f in current.person_fields:
        counts = df.groupby([df["group_id"].astype(str), df[f].astype(str)]).size()
        per = counts.groupby(level=0).size()
        for g in per[per > 1].index:
            c = counts.loc[g].sort_values(ascending=False, kind="stable")
            rows.append({"group_id": g, "field": f, "values": ", ".join(f"{v} ×{n}" for v, n in c.items())})
    return pd.DataFrame(rows, columns=cols).sort_values(["group_id", "field"], kind="stable").reset_index(drop=True)


def export_tree(manifest: Manifest, store: Any, out_dir: str | os.PathLike[str], *, link: bool = True) -> TreeResult:
    """Write today's corrected dataset of ``manifest`` as a tree in its layout under ``out_dir``.

    Parameters
    ----------
    manifest : Manifest
        The dataset as loaded from disk (not a ``current_labels`` result).
    store : ReviewStore
        The decisions, read once (one snapshot).
    out_dir : path
        A new or empty folder, or a tree this function wrote before (replaced whole). Refused
        when it is or lies inside the dataset's image folders, or contains the dataset.
    link : bool
        Hard-link images (default; falls back to copying across filesystems); False copies.
    """
    from .export import person_frame

    root = Path(manifest.root).resolve()
    out = Path(out_dir).expanduser().resolve()
    _check_target(root, out)
    latest, stats = store.snapshot()
    current = apply_events(manifest, latest)
    people = person_frame(current, manifest) if manifest.schema.group_table else None
    plan = plan_tree(current, people)
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.tmp"
    out.parent.mkdir(parents=True, exist_ok=True)
    linked = copied = 0
    try:
        tmp.mkdir()
        for dest, image_id in sorted(plan.links.items()):
            target = tmp / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            if _place(root / image_id, target, link=link):
                linked += 1
            else:
                copied += 1
        for name, data in plan.files.items():
            (tmp / name).write_bytes(data)
        marker = {"dataset": str(manifest.source), "layout": manifest.layout, "images": len(plan.links),
                  "excluded": plan.excluded, "events_last_id": stats.get("last_id") or 0,
                  "left_out": [list(x) for x in plan.left_out], "renamed": plan.renamed}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return TreeResult(out_dir=out, images=len(plan.links), linked=linked, copied=copied, excluded=plan.excluded,
                      left_out=plan.left_out, renamed=plan.renamed, inconsistent=inconsistent_persons(current),
                      last_event_id=int(stats.get("last_id") or 0))


def _check_target(root: Path, out: Path) -> None:
    if out == root or root.is_relative_to(out):
        raise ReviewError(f"{out}: the tree would contain the dataset {root}; choose a folder outside it")
    if out.is_relative_to(root):
        rel = out.relative_to(root)
        if not any(part.startswith(".") for part in rel.parts):
            raise ReviewError(f"{out} lies inside the dataset {root}; choose a folder outside it "
                              "(or inside its hidden workspace folder)")
    if out.exists():
        if not out.is_dir():
            raise ReviewError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise ReviewError(f"{out} is not empty and holds no earlier labelscope tree; choose an empty folder")


def _place(src: Path, dst: Path, *, link: bool) -> bool:
    """Hard-link ``src`` to ``dst`` (True), or copy it when linking is impossible (False)."""
    if link:
        try:
            os.link(src, dst)
            return True
        except OSError:
            pass
    shutil.copy2(src, dst)
    return False


def _swap_in(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` to ``out``; the previous tree (if any) is removed afterwards."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
