"""Multi-attribute CSV layout: a CSV with ``path,mask,gender,age`` and optional ``group`` (a person id).

Paths are relative to the CSV's folder. The 18 classes are the competition's (mask x gender x
age group: the same factors as ``mask.py``), so everything downstream (checks, training,
metrics) treats it like the competition layout; ``gender`` and ``age`` belong to the group
(person) when there is one. The corrected tree is this CSV with today's values.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .base import Manifest, Problem, resolve_inside
from .csvio import read_csv_rows
from .mask import FACTORS, GENDERS, MASK_FIELD
from .schema import FieldSpec, LayoutSchema, parse_age, register

REQUIRED_COLUMNS = ("path", "mask", "gender", "age")
CSV_COLUMNS = ("path", "mask", "gender", "age", "group")
SCHEMA = register("attrs", LayoutSchema(
    "attrs",
    fields=(FieldSpec("gender", "group", "choice", GENDERS), FieldSpec("age", "group", "int"), MASK_FIELD),
    factors=FACTORS, groups=True, groups_are_people=True, can_swap_masks=True, tree="attrs",
    tree_note=": the CSV (path, mask, gender, age, group) with the corrected values, images at their paths"))
COLUMNS = ["image_id", "label", "group_id", "mask", "gender", "age", "age_group", "class_index", "csv_row"]


def header_of(csv_path: Path) -> list[str]:
    """The CSV's column names (lower-cased), or [] when it cannot be read."""
    _, header, err = read_csv_rows(csv_path)
    return [] if err is not None else header


def is_attrs_csv(csv_path: Path) -> bool:
    """A CSV file with path, mask, gender and age columns (and no ``label`` column)."""
    header = header_of(csv_path) if csv_path.is_file() else []
    return all(c in header for c in REQUIRED_COLUMNS) and "label" not in header


def load_attrs(csv_path: Path) -> Manifest:
    """Read the CSV, collecting a problem per bad row (rows with problems are left out)."""
    csv_path = csv_path.resolve()
    root, name = csv_path.parent, csv_path.name
    rows, header, err = read_csv_rows(csv_path)
    if err is not None:
        return _empty(root, csv_path, [err])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return _empty(root, csv_path, [Problem("error", "missing_columns", f"lacks column(s) {', '.join(missing)}; "
                                               "expected path,mask,gender,age[,group]", name, 1)])
    problems: list[Problem] = []
    records = []
    seen: dict[str, int] = {}
    for line, row in rows:
        rel = (row.get("path") or "").strip().replace("\\", "/")
        if not rel:
            problems.append(Problem("warning", "missing_value", "empty path; row skipped", name, line))
            continue
        values, bad = {}, None
        for field in ("mask", "gender", "age"):
            try:
                values[field] = parse_age(row.get(field)) if field == "age" else \
                    SCHEMA.field(field).parse(row.get(field))
            except ValueError as e:
                bad = Problem("warning", "bad_age" if field == "age" else "unknown_value", f"{e}; row skipped",
                              name, line)
                break
        if bad is not None:
            problems.append(bad)
            continue
        p = resolve_inside(root, rel)
        if p is None:
            problems.append(Problem("warning", "outside_root", f"path {rel!r} escapes the dataset root; rejected",
                                    name, line))
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
        records.append({"image_id": image_id, "group_id": (row.get("group") or "").strip(), **values,
                        "csv_row": line})
    if not records:
        problems.append(Problem("error", "empty_dataset", "no usable image listed", name))
        return _empty(root, csv_path, problems)
    df = SCHEMA.derive(pd.DataFrame.from_records(records))
    df = df[COLUMNS].sort_values("image_id", kind="stable").reset_index(drop=True)
    df["age"] = df["age"].astype(int)
    df["csv_row"] = df["csv_row"].astype(int)
    return Manifest(df, root, "attrs", csv_path, problems)


def _empty(root: Path, source: Path, problems: list[Problem]) -> Manifest:
    return Manifest(pd.DataFrame(columns=["image_id", "label", "group_id"]), root, "attrs", source, problems)
