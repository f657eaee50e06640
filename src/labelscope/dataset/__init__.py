"""Dataset ingestion: a layout on disk -> the Manifest (one row per image).

>>> m = load_dataset("data/demo")          # layout detected: mask, folder, csv or attrs
>>> m.schema.fields                          # what the labels are: ask the schema, not the layout's name
>>> m.df.head(); [str(p) for p in m.problems]
"""
from __future__ import annotations

import os
from pathlib import Path

from .attrs import is_attrs_csv, load_attrs
from .base import IMAGE_EXTENSIONS, DatasetError, Manifest, Problem
from .folder import load_folder
from .manifest import load_csv_manifest
from .mask import is_mask_layout, load_mask
from .schema import LayoutSchema

LAYOUTS = ("auto", "mask", "folder", "csv", "attrs")


def detect_layout(root: str | os.PathLike[str]) -> str:
    """For a file: ``attrs`` (path, mask, gender, age columns) or ``csv``; for a folder: ``mask``
    (train.csv + images/) or ``folder``."""
    p = Path(root)
    if p.is_file():
        return "attrs" if is_attrs_csv(p) else "csv"
    if is_mask_layout(p):
        return "mask"
    return "folder"


def check_dataset(root: str | os.PathLike[str], layout: str = "auto") -> Manifest:
    """Load without raising: the Manifest of what is usable plus every problem found."""
    p = Path(root).expanduser()
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if not p.exists():
        import pandas as pd

        from ..config import safe_resolve
        from .base import link_loops

        where = safe_resolve(p)
        why = ("dataset path is a symlink loop (it never reaches a file or folder)" if p.is_symlink() and link_loops(p)
               else "dataset path does not exist")
        return Manifest(pd.DataFrame(columns=["image_id", "label", "group_id"]), where, layout, where,
                        [Problem("error", "symlink_loop" if "loop" in why else "not_found", why, str(p))])
    layout = detect_layout(p) if layout == "auto" else layout
    if layout == "csv":
        return load_csv_manifest(p)
    if layout == "attrs":
        return load_attrs(p)
    if layout == "mask":
        return load_mask(p)
    return load_folder(p)


def load_dataset(root: str | os.PathLike[str], layout: str = "auto") -> Manifest:
    """Load a dataset; raise DatasetError (with every problem) when nothing is usable.

    Problems that only affect some rows stay in ``manifest.problems`` as warnings.
    """
    m = check_dataset(root, layout)
    if m.errors:
        raise DatasetError(m.problems)
    return m


__all__ = ["IMAGE_EXTENSIONS", "DatasetError", "LayoutSchema", "Manifest", "Problem", "check_dataset", "detect_layout",
           "load_dataset", "LAYOUTS"]
