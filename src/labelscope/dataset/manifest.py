"""CSV-manifest layout: a CSV with ``path,label`` and optional ``group``, paths relative to it."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .base import Manifest, Problem, link_loops, resolve_inside
from .csvio import read_csv_rows
from .schema import LayoutSchema, register

SCHEMA = register("csv", LayoutSchema("csv", groups=True, tree="csv",
                                      tree_note=": the CSV with the corrected labels, images at their paths"))


def load_csv_manifest(csv_path: Path) -> Manifest:
    csv_path = csv_path.resolve()
    root = csv_path.parent
    name = csv_path.name
    rows, header, err = read_csv_rows(csv_path)
    if err is not None:
        return Manifest(_empty(), root, "csv", csv_path, [err])
    missing = [c for c in ("path", "label") if c not in header]
    if missing:
        return Manifest(_empty(), root, "csv", csv_path, [Problem(
            "error", "missing_columns", f"lacks column(s) {', '.join(missing)}; expected path,label[,group]", name, 1)])
    problems: list[Problem] = []
    records = []
    seen: dict[str, int] = {}
    for line, row in rows:
        rel = (row.get("path") or "").strip().replace("\\", "/")
        label = (row.get("label") or "").strip()
        if not rel:
            problems.append(Problem("warning", "missing_value", "empty path; row skipped", name, line))
            continue
        if not label:
            problems.append(Problem("warning", "missing_value", f"empty label for {rel!r}; row skipped", name, line))
            continue
        p = resolve_inside(root, rel)
        if p is None:
            if link_loops(root / rel):
                problems.append(Problem("warning", "symlink_loop", f"path {rel!r} is a symlink loop; rejected",
                                        name, line))
            else:
                problems.append(Problem("warning", "outside_root", f"path {rel!r} escapes the dataset root; "
                                        "rejected", name, line))
            continue
        image_id = p.relative_to(root.resolve()).as_posix()
        if image_id in seen:
            problems.append(Problem("warning", "duplicate_id", f"{rel!r} already listed on line {seen[image_id]}; "
                                    "row skipped", name, line))
            continue
        if not p.is_file():
            problems.append(Problem("warning", "missing_image", f"image {rel!r} does not exist", name, line))
            continue
        seen[image_id] = line
        records.append({"image_id": image_id, "label": label, "group_id": (row.get("group") or "").strip(),
                        "csv_row": line})
    if not records:
        problems.append(Problem("error", "empty_dataset", "no usable image listed", name))
        return Manifest(_empty(), root, "csv", csv_path, problems)
    df = pd.DataFrame.from_records(records).sort_values("image_id", kind="stable").reset_index(drop=True)
    return Manifest(df, root, "csv", csv_path, problems)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["image_id", "label", "group_id"])
