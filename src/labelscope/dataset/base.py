"""The Manifest (one row per image) and the validation problems every layout reports."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from .schema import LayoutSchema, schema_for

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset, named by file and CSV row where there is one.

    ``severity="error"`` means the dataset cannot be used at all (no readable CSV, no image);
    ``"warning"`` means some rows are affected and were left out or kept as they are.
    ``row`` is the 1-based line number in the CSV file (the header is line 1).
    """

    severity: Severity
    code: str
    message: str
    file: str | None = None
    row: int | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.row is not None:
            where = f"{where}:{self.row}" if where else f"row {self.row}"
        return f"{self.severity.upper()} [{self.code}] {where + ': ' if where else ''}{self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


class DatasetError(Exception):
    """The dataset cannot be used at all; ``problems`` says every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems if p.severity == "error") or "dataset unusable")


@dataclass
class Manifest:
    """One row per image: the canonical table every stage reads.

    Attributes
    ----------
    df : DataFrame
        Columns ``image_id`` (POSIX path relative to ``root``, the key), ``label``,
        ``group_id`` (person id for the mask layout, else the CSV's group or ""), plus the
        layout's attributes (mask layout: ``mask``, ``gender``, ``age``, ``age_group``,
        ``race``, ``class_index``, ``person_path``), and ``csv_row`` where a CSV named it.
    root : Path
        The folder every ``image_id`` is relative to.
    layout : str
        ``"mask"``, ``"folder"`` or ``"csv"``.
    source : Path
        What the user pointed at (the dataset folder, or the CSV file).
    problems : list[Problem]
        Everything validation found (rows with problems are left out of ``df``).
    schema : LayoutSchema
        What the labels are (fields, classes, capabilities): ask it, never ``layout``.
        Defaults to the one the layout module registered.
    """

    df: pd.DataFrame
    root: Path
    layout: str
    source: Path
    problems: list[Problem] = field(default_factory=list)
    schema: LayoutSchema = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.schema is None:
            self.schema = schema_for(self.layout)

    def __len__(self) -> int:
        return len(self.df)

    @property
    def fields(self) -> list[str]:
        """Label fields a reviewer may change (person-level ones first)."""
        return self.schema.field_names

    @property
    def person_fields(self) -> list[str]:
        """Fields that belong to a whole group (person) rather than one image."""
        return self.schema.person_fields

    @property
    def attributes(self) -> list[str]:
        """Categorical columns worth grouping by in EDA views."""
        return self.schema.attributes

    @property
    def classes(self) -> list[str]:
        """Class names in class-index order."""
        fixed = self.schema.class_names
        if fixed is not None:
            return list(fixed)
        return sorted(self.df["label"].unique().tolist())

    @property
    def has_groups(self) -> bool:
        return bool((self.df["group_id"].astype(str) != "").any()) if len(self.df) else False

    def path_of(self, image_id: str) -> Path:
        return self.root / image_id

    def paths(self) -> list[Path]:
        return [self.root / i for i in self.df["image_id"]]

    def with_df(self, df: pd.DataFrame) -> "Manifest":
        return Manifest(df=df, root=self.root, layout=self.layout, source=self.source, problems=self.problems,
                        schema=self.schema)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def problems_frame(self) -> pd.DataFrame:
        cols = ["severity", "code", "file", "row", "message"]
        return pd.DataFrame([p.to_dict() for p in self.problems], columns=cols)


def resolve_inside(root: Path, rel: str) -> Path | None:
    """``root / rel`` resolved, or None when it escapes ``root`` (``..``, absolute, symlink out)
    or cannot be resolved (a symlink loop, an unreadable link). ``root`` itself may be a link
    (``images/`` on another disk): containment is checked against where it resolves to."""
    if not rel or os.path.isabs(rel) or rel.startswith(("/", "\\")):
        return None
    try:
        root_r = root.resolve()
        p = (root_r / rel).resolve(strict=False)
    except (OSError, RuntimeError, ValueError):  # RuntimeError: "Symlink loop" (Python < 3.13)
        return None
    try:
        p.relative_to(root_r)
    except ValueError:
        return None
    return p


safe_resolve_inside = resolve_inside


def link_loops(p: Path) -> bool:
    """True when ``p`` is a symlink that never reaches a file (``x.jpg -> x.jpg``, a -> b -> a)."""
    try:
        p.resolve(strict=True)
        return False
    except RuntimeError:
        return True
    except OSError as e:
        import errno

        return e.errno == errno.ELOOP


def printable_name(name: str) -> str:
    """A file name as text that can always be printed and stored (undecodable bytes as ``\\xff``)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def is_utf8_name(name: str) -> bool:
    """False for a file name holding bytes that are not UTF-8 (``bad\\xff.jpg`` on Linux)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def bad_name_problem(rel: str, row: int | None = None) -> "Problem":
    shown = printable_name(rel)
    return Problem("warning", "bad_file_name", f"file name {shown!r} is not valid UTF-8; ignored (rename it, e.g. "
                   "`convmv -f latin1 -t utf8`, to include it)", shown, row)


def is_image_file(p: Path) -> bool:
    return p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
