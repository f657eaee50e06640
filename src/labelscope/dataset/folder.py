"""ImageFolder layout: ``root/<class>/<image>``; dot-folders and non-image files are ignored."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .base import Manifest, Problem, bad_name_problem, is_image_file, is_utf8_name, link_loops, resolve_inside
from .schema import LayoutSchema, register

SCHEMA = register("folder", LayoutSchema("folder", tree="folder", tree_note=": one folder per corrected class"))


def find_classes(root: Path) -> list[str]:
    """Class folder names, sorted; dot-folders (e.g. the ``.labelscope`` workspace) excluded."""
    return sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))


def is_folder_layout(root: Path) -> bool:
    return root.is_dir() and bool(find_classes(root))


def load_folder(root: Path) -> Manifest:
    root = root.resolve()
    problems: list[Problem] = []
    records = []
    for cls in find_classes(root):
        for f in sorted((root / cls).rglob("*")):
            rel = f.relative_to(root)
            if any(part.startswith(".") for part in rel.parts) or not f.is_file() and not f.is_symlink():
                continue
            if not is_utf8_name(rel.as_posix()):
                problems.append(bad_name_problem(rel.as_posix()))
                continue
            if not is_image_file(f):
                continue
            if resolve_inside(root, rel.as_posix()) is None:
                if link_loops(f):
                    problems.append(Problem("warning", "symlink_loop", "symlink loop (the link never reaches a "
                                            "file); ignored", rel.as_posix()))
                else:
                    problems.append(Problem("warning", "outside_root", "symlink points outside the dataset root; "
                                            "ignored", rel.as_posix()))
                continue
            if not f.exists():
                problems.append(Problem("warning", "missing_image", "broken link; ignored", rel.as_posix()))
                continue
            records.append({"image_id": rel.as_posix(), "label": cls, "group_id": ""})
    if not records:
        problems.append(Problem("error", "empty_dataset", f"Found 0 image files in subfolders of {root}", str(root)))
        return Manifest(pd.DataFrame(columns=["image_id", "label", "group_id"]), root, "folder", root, problems)
    df = pd.DataFrame.from_records(records).sort_values("image_id", kind="stable").reset_index(drop=True)
    return Manifest(df, root, "folder", root, problems)
