"""The mask competition layout: ``train.csv`` + ``images/<path>/{mask1..5,incorrect_mask,normal}.*``.

18 classes = mask * 6 + gender * 3 + age_group, with mask in (wear, incorrect, not_wear),
gender in (male, female) and age_group in (<30, 30-59, >=60): the competition's mapping.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from .base import Manifest, Problem, bad_name_problem, is_utf8_name, link_loops, safe_resolve_inside
from .csvio import read_csv_rows
from .schema import Factor, FieldSpec, LayoutSchema, parse_age, register

MASKS = ("wear", "incorrect", "not_wear")
GENDERS = ("male", "female")
AGE_GROUPS = ("<30", "30-59", ">=60")
STEM_TO_MASK = {
    "mask1": "wear", "mask2": "wear", "mask3": "wear", "mask4": "wear", "mask5": "wear",
    "incorrect_mask": "incorrect", "normal": "not_wear",
}
EXPECTED_STEMS = tuple(STEM_TO_MASK)
MASK_EXTENSIONS = (".jpg", ".jpeg", ".png")
REQUIRED_COLUMNS = ("id", "gender", "race", "age", "path")
AGE_FOR_GROUP = {"<30": 25, "30-59": 45, ">=60": 65}  # the age an accepted age-group suggestion sets


def age_group(age: int) -> str:
    """``<30`` for age < 30, ``30-59`` for 30 <= age < 60, ``>=60`` otherwise."""
    return AGE_GROUPS[0] if age < 30 else AGE_GROUPS[1] if age < 60 else AGE_GROUPS[2]


# The 18-class decomposition, written once: class = mask * 6 + gender * 3 + age_group.
FACTORS = (Factor("mask", MASKS, "mask"), Factor("gender", GENDERS, "gender"),
           Factor("age_group", AGE_GROUPS, "age", bin=age_group, unbin=AGE_FOR_GROUP))
MASK_FIELD = FieldSpec("mask", "image", "choice", MASKS, aliases=STEM_TO_MASK)
SCHEMA = register("mask", LayoutSchema(
    "mask",
    fields=(FieldSpec("gender", "group", "choice", GENDERS), FieldSpec("age", "group", "int"),
            FieldSpec("race", "group", "text"), MASK_FIELD),
    factors=FACTORS, groups=True, groups_are_people=True, can_swap_masks=True, group_table="train.csv",
    tree="mask", export_note=", train.csv (the competition's schema, corrected)",
    tree_note=": train.csv + images/<person>/<mask>.jpg, person folders renamed to the corrected gender, race "
              "and age"))
CLASS_NAMES = SCHEMA.class_names


def class_index(mask: str, gender: str, age: int) -> int:
    return SCHEMA.class_of(mask=mask, gender=gender, age=age)


def derive_columns(df: pd.DataFrame) -> pd.DataFrame:
    """(Re)compute ``age_group``, ``class_index`` and ``label`` from mask, gender and age."""
    return SCHEMA.derive(df)


def is_mask_layout(root: Path) -> bool:
    return root.is_dir() and (root / "train.csv").is_file() and (root / "images").is_dir()


def load_mask(root: Path) -> Manifest:
    """Read the competition layout, collecting every problem instead of stopping at the first."""
    root = root.resolve()
    csv_path = root / "train.csv"
    problems: list[Problem] = []
    rows, header, err = read_csv_rows(csv_path)
    if err is not None:
        return Manifest(_empty(), root, "mask", root, [err])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        problems.append(Problem("error", "missing_columns", f"train.csv lacks column(s) {', '.join(missing)}; "
                                f"expected {', '.join(REQUIRED_COLUMNS)}", "train.csv", 1))
        return Manifest(_empty(), root, "mask", root, problems)

    records: list[dict] = []
    seen_ids: dict[str, int] = {}
    seen_paths: dict[Path, tuple[int, str]] = {}  # resolved person folder -> (line, path as written)
    images = root / "images"
    images_r = images.resolve()
    for line, row in rows:
        pid = (row.get("id") or "").strip()
        gender = (row.get("gender") or "").strip().lower()
        race = (row.get("race") or "").strip()
        age_s = (row.get("age") or "").strip()
        ppath = (row.get("path") or "").strip()
        bad = False
        if not pid:
            problems.append(Problem("warning", "missing_value", "empty id; row skipped", "train.csv", line))
            continue
        if pid in seen_ids:
            problems.append(Problem("warning", "duplicate_id", f"id {pid!r} already on line {seen_ids[pid]}; row skipped",
                                    "train.csv", line))
            continue
        seen_ids[pid] = line
        if gender not in GENDERS:
            problems.append(Problem("warning", "unknown_value", f"unknown gender {row.get('gender')!r} "
                                    f"(expected male or female); person {pid} skipped", "train.csv", line))
            bad = True
        try:
            age = parse_age(age_s)
        except ValueError:
            problems.append(Problem("warning", "bad_age", f"age {age_s!r} is not an integer from 0 to 130; "
                                    f"person {pid} skipped", "train.csv", line))
            bad = True
            age = -1
        folder = safe_resolve_inside(images, ppath) if ppath else None
        if folder is None or folder == images_r:
            problems.append(Problem("warning", "outside_root", f"path {ppath!r} is empty, loops or escapes images/; "
                                    f"person {pid} skipped", "train.csv", line))
            continue
        if folder in seen_paths:  # compared resolved: "x/", "x/../x" and a link to x all reach x's photos
            first, spelled = seen_paths[folder]
            problems.append(Problem("error", "duplicate_path",
                                    f"path {ppath!r} (person {pid}) reaches the same folder as path {spelled!r} on "
                                    f"line {first}: two rows cannot own the same photos; give each person its own "
                                    f"folder (lines {first} and {line})", "train.csv", line))
            continue
        seen_paths[folder] = (line, ppath)
        canon = folder.relative_to(images_r).as_posix()  # the folder's one spelling, for the image ids
        if not folder.is_dir():
            problems.append(Problem("warning", "missing_image", f"person folder images/{ppath}/ does not exist",
                                    f"images/{ppath}", line))
            continue
        files = _person_files(folder, ppath, line, problems)
        if bad:
            continue
        for stem, f in files.items():
            records.append({
                "image_id": f"images/{canon}/{f.name}", "group_id": pid, "mask": STEM_TO_MASK[stem],
                "gender": gender, "age": age, "race": race, "person_path": ppath, "csv_row": line,
            })
    if not records:
        problems.append(Problem("error", "empty_dataset", "no usable image in train.csv / images/", "train.csv"))
        return Manifest(_empty(), root, "mask", root, problems)
    df = derive_columns(pd.DataFrame.from_records(records))
    cols = ["image_id", "label", "group_id", "mask", "gender", "age", "age_group", "race", "class_index",
            "person_path", "csv_row"]
    df = df[cols].sort_values("image_id", kind="stable").reset_index(drop=True)
    df["age"] = df["age"].astype(int)
    df["csv_row"] = df["csv_row"].astype(int)
    return Manifest(df, root, "mask", root, problems)


def _person_files(folder: Path, ppath: str, line: int, problems: list[Problem]) -> dict[str, Path]:
    """The expected photos of one person folder; names missing, doubled and unexpected files."""
    found: dict[str, Path] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError as e:
        problems.append(Problem("warning", "unreadable_folder", f"cannot list the person folder: {e.strerror or e}",
                                f"images/{ppath}", line))
        return found
    for f in entries:
        if not is_utf8_name(f.name):
            problems.append(bad_name_problem(f"images/{ppath}/{f.name}", line))
            continue
        if f.name.startswith(".") or f.is_dir():
            continue
        stem, ext = f.stem, f.suffix.lower()
        if stem not in STEM_TO_MASK or ext not in MASK_EXTENSIONS:
            problems.append(Problem("warning", "unexpected_file", f"{f.name} is not one of the 7 expected photos "
                                    "(mask1-5, incorrect_mask, normal .jpg/.jpeg/.png); ignored",
                                    f"images/{ppath}/{f.name}", line))
            continue
        if f.is_symlink() and safe_resolve_inside(folder, f.name) is None:  # resolving every file is slow
            why = "is a symlink loop" if link_loops(f) else "links outside the dataset"
            problems.append(Problem("warning", "outside_root" if "outside" in why else "symlink_loop",
                                    f"{f.name} {why}; ignored", f"images/{ppath}/{f.name}", line))
            continue
        if stem in found:
            problems.append(Problem("warning", "duplicate_file", f"{f.name} doubles {found[stem].name}; ignored",
                                    f"images/{ppath}/{f.name}", line))
            continue
        found[stem] = f
    missing = [s for s in EXPECTED_STEMS if s not in found]
    if missing:
        problems.append(Problem("warning", "person_incomplete", f"person folder has {len(found)} of the 7 expected "
                                f"photos; missing {', '.join(missing)}", f"images/{ppath}", line))
    return found


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["image_id", "label", "group_id"])


def write_train_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a competition ``train.csv`` (id, gender, race, age, path) from person rows."""
    df[["id", "gender", "race", "age", "path"]].to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
