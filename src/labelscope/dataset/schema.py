"""The layout contract: what a dataset's labels are, asked by every room instead of its layout's name.

Each layout module (``mask.py``, ``folder.py``, ``manifest.py``, ``attrs.py``) supplies one
:class:`LayoutSchema` and registers it under its name; a Manifest carries it as
``manifest.schema``. The schema says:

- the label **fields** a reviewer may change, which belong to the **group** (a person) and
  which to the **image**, each field's choices and its one parser (``FieldSpec.parse``: the
  same rule for ``check`` reading the CSV and for ``review apply``);
- the **factors** the class index decomposes into (mask x gender x age group for the
  competition: ``class = mask * 6 + gender * 3 + age_group``), so the class list,
  ``compose`` and ``decompose`` are written once, here;
- the **capabilities** the rooms branch on (groups are people, a mask swap, a group table
  to export as ``train.csv``, the export tree's shape, wording for the Export page).

A layout without factors (ImageFolder, a ``path,label`` CSV) has one field, ``label``, whose
choices are the dataset's own class names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping

import numpy as np
import pandas as pd

Level = Literal["group", "image"]
Kind = Literal["class", "choice", "int", "text"]
AGE_MIN, AGE_MAX = 0, 130
_WHOLE = re.compile(r"^[0-9]+(\.0*)?$")


def parse_age(value: object) -> int:
    """An age as an int: ASCII digits (``45``, ``45.0`` too), surrounding blanks ignored, 0 to 130.

    The one age rule of the project: ``check`` (reading a CSV) and ``review apply`` both call it.
    Raises ValueError for anything else (``+45``, ``4e1``, non-ASCII digits, ``forty``, ``131``).
    """
    s = "" if value is None else str(value).strip()
    if not _WHOLE.match(s):
        raise ValueError(f"age {s!r} is not a whole number from {AGE_MIN} to {AGE_MAX}")
    age = int(s.split(".", 1)[0])
    if not AGE_MIN <= age <= AGE_MAX:
        raise ValueError(f"age {s!r} is not a whole number from {AGE_MIN} to {AGE_MAX}")
    return age


@dataclass(frozen=True)
class FieldSpec:
    """One label field a reviewer may change.

    ``kind``: ``class`` (one of the dataset's classes), ``choice`` (one of ``choices``;
    ``aliases`` maps other accepted spellings), ``int`` (``lo``..``hi``, parsed by
    :func:`parse_age`-like rules) or ``text`` (1-64 printable characters).
    """

    name: str
    level: Level = "image"
    kind: Kind = "class"
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    lo: int = AGE_MIN
    hi: int = AGE_MAX

    def parse(self, value: object, classes: list[str] | None = None) -> str:
        """``value`` as the stored text of this field; ValueError saying what is accepted."""
        s = "" if value is None else str(value).strip()
        if self.kind == "class":
            classes = list(classes or [])
            if s not in classes:
                shown = ", ".join(classes[:20]) + (" …" if len(classes) > 20 else "")
                raise ValueError(f"unknown label {s!r}; known classes: {shown}")
            return s
        if self.kind == "choice":
            v = self.aliases.get(s, s).lower()
            if v not in self.choices:
                what = f"{self.name} value" if self.aliases else self.name
                raise ValueError(f"unknown {what} {s!r}; expected one of {', '.join(self.choices)}")
            return v
        if self.kind == "int":
            return str(parse_age(s))
        if not s or len(s) > 64 or any(ord(c) < 32 for c in s):
            raise ValueError(f"{self.name} {s!r} must be 1-64 printable characters")
        return s


@dataclass(frozen=True)
class Factor:
    """One attribute the class index decomposes into: ``values`` in index order.

    ``field`` is the label field it comes from (``age_group`` from ``age`` via ``bin``);
    ``unbin`` gives the field value a reviewer's accepted factor value becomes (``>=60`` -> 60).
    """

    name: str
    values: tuple[str, ...]
    field: str
    bin: Callable[[int], str] | None = None
    unbin: Mapping[str, int] = field(default_factory=dict)

    def field_value(self, value: str) -> object:
        """The field value for a factor value (itself unless the factor is binned)."""
        return self.unbin[value] if value in self.unbin else (int(value) if self.bin is not None else value)

    def of(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """The factor's index of each field value (-1 where unknown)."""
        v = pd.Series(np.asarray(values, dtype=object))
        if self.bin is not None:
            v = v.astype(int).map(self.bin)
        return v.map({x: i for i, x in enumerate(self.values)}).fillna(-1).astype(int).to_numpy()


@dataclass(frozen=True)
class LayoutSchema:
    """What a layout's labels are (see the module docstring)."""

    name: str
    fields: tuple[FieldSpec, ...] = (FieldSpec("label"),)
    factors: tuple[Factor, ...] = ()
    groups: bool = False                 # rows may carry a group id
    groups_are_people: bool = False      # a group is one person: their photos look alike
    can_swap_masks: bool = False         # a group's incorrect / not_wear photos may be swapped
    group_table: str | None = None       # exported one row per group under this name (train.csv)
    tree: Literal["mask", "folder", "csv", "attrs"] = "csv"
    export_note: str = ""                # what the Export page adds to "labels.csv (one row per image)"
    tree_note: str = ""                  # how the corrected tree is laid out

    # ---- fields -----------------------------------------------------------------------
    @property
    def field_names(self) -> list[str]:
        """Label fields a reviewer may change (group-level ones first)."""
        return [f.name for f in self.fields]

    @property
    def person_fields(self) -> list[str]:
        """Fields that belong to a whole group (person) rather than one image."""
        return [f.name for f in self.fields if f.level == "group"]

    @property
    def image_field(self) -> str:
        """The image's own label field: the one a label check judges and a thumbnail shows."""
        return next((f.name for f in self.fields if f.level == "image" and
                     (not self.factors or f.name in self.factor_names)), self.fields[-1].name)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"unknown field {name!r}; expected one of {', '.join(self.field_names)}")

    def has_field(self, name: str) -> bool:
        return name in self.field_names

    def is_int(self, name: str) -> bool:
        """True for a field stored as a whole number (age)."""
        return self.has_field(name) and self.field(name).kind == "int"

    # ---- classes ------------------------------------------------------------------------
    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def factor(self, name: str) -> Factor | None:
        return next((f for f in self.factors if f.name == name), None)

    @property
    def class_names(self) -> tuple[str, ...] | None:
        """The fixed class list (factor values joined by ``_``), or None when the data names them."""
        if not self.factors:
            return None
        names = [""]
        for f in self.factors:
            names = [f"{n}_{v}" if n else v for n in names for v in f.values]
        return tuple(names)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(len(f.values) for f in self.factors)

    def compose(self, indices: Mapping[str, np.ndarray | int]) -> np.ndarray:
        """Class index from each factor's index (mixed radix, first factor most significant)."""
        out = np.zeros_like(np.asarray(indices[self.factors[0].name]), dtype=np.int64)
        for f in self.factors:
            out = out * len(f.values) + np.asarray(indices[f.name], dtype=np.int64)
        return out

    def decompose(self, class_index: np.ndarray | int) -> dict[str, np.ndarray]:
        """Each factor's index from class indices (the inverse of :meth:`compose`)."""
        rest = np.asarray(class_index, dtype=np.int64)
        out: dict[str, np.ndarray] = {}
        for f in reversed(self.factors):
            out[f.name] = rest % len(f.values)
            rest = rest // len(f.values)
        return {f.name: out[f.name] for f in self.factors}

    def class_of(self, **values: object) -> int:
        """Class index of one image from its field values (``mask=..., gender=..., age=...``)."""
        idx = {f.name: int(f.of(np.asarray([values[f.field]], dtype=object))[0]) for f in self.factors}
        return int(self.compose(idx))

    @property
    def derived(self) -> list[str]:
        """Columns computed from the fields (not reviewable): binned factors, class_index, label."""
        if not self.factors:
            return []
        return [f.name for f in self.factors if f.name != f.field] + ["class_index", "label"]

    def derive(self, df: pd.DataFrame) -> pd.DataFrame:
        """(Re)compute the derived columns (``age_group``, ``class_index``, ``label``) from the fields."""
        df = df.copy()
        if not self.factors:
            return df
        idx = {}
        for f in self.factors:
            idx[f.name] = f.of(df[f.field].to_numpy())
            if f.name != f.field:
                df[f.name] = np.asarray(f.values, dtype=object)[idx[f.name]]
        ci = self.compose(idx).astype(int)
        df["class_index"] = ci
        df["label"] = np.asarray(self.class_names, dtype=object)[ci]
        return df

    # ---- views ------------------------------------------------------------------------
    @property
    def label_columns(self) -> list[str]:
        """``labels.csv`` columns between ``person`` and ``label`` (fields and derived columns)."""
        if not self.factors:
            return []
        cols: list[str] = []
        for f in self.factors:
            for c in (f.field, f.name):
                if c not in cols:
                    cols.append(c)
        return cols + ["class_index"]

    @property
    def attributes(self) -> list[str]:
        """Categorical columns worth grouping by in EDA views."""
        return self.factor_names + ["label"]

    @property
    def filters(self) -> list[str]:
        """Factor columns the Review page filters on."""
        return self.factor_names

    def value_order(self, attribute: str) -> tuple[str, ...] | None:
        """The natural order of ``attribute``'s values, or None when the data decides."""
        f = self.factor(attribute)
        if f is not None:
            return f.values
        return self.class_names if attribute == "label" else None


LABEL_SCHEMA = LayoutSchema("label")
SCHEMAS: dict[str, LayoutSchema] = {}


def register(layout: str, schema: LayoutSchema) -> LayoutSchema:
    """Make ``schema`` the one Manifests of ``layout`` carry."""
    SCHEMAS[layout] = schema
    return schema


def schema_for(layout: str) -> LayoutSchema:
    return SCHEMAS.get(layout, LABEL_SCHEMA)


def schema_for_columns(columns) -> LayoutSchema | None:
    """The registered schema with factors whose ``labels.csv`` columns are all in ``columns``."""
    have = set(columns)
    return next((s for s in SCHEMAS.values() if s.factors and set(s.label_columns) <= have), None)


__all__ = ["Factor", "FieldSpec", "LABEL_SCHEMA", "LayoutSchema", "SCHEMAS", "parse_age", "register", "schema_for",
           "schema_for_columns"]
