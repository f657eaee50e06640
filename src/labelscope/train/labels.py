"""Read the exported ``labels.csv`` into the table training needs (pure pandas, no torch).

Mask layout columns: image_id, path, person, mask, gender, age, age_group, class_index,
label, excluded, changed, last_reviewer (18 classes, ``class_index`` in CLASS_NAMES order).
Generic layouts: image_id, path, person, label, excluded, changed, last_reviewer
(classes = the sorted labels). ``path`` is relative to the dataset root.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..dataset.schema import LayoutSchema, schema_for_columns

REQUIRED = ("image_id", "path", "label")


class LabelsError(ValueError):
    """The labels file cannot be trained on; the message names the file and row."""


@dataclass
class LabelsTable:
    """The trainable rows of a labels file.

    Attributes
    ----------
    df : DataFrame
        Non-excluded rows in file order with columns ``image_id``, ``path``, ``person``,
        ``label`` and ``target`` (int class index), plus whatever else the file had.
    classes : list[str]
        Class names in index order.
    layout : str
        The schema's name whose label columns the file has (``"mask"``: 18 classes) or ``"generic"``.
    excluded : int
        Rows left out because ``excluded`` was 1.
    source : Path
        The CSV file read.
    schema : LayoutSchema or None
        The schema whose classes decompose (mask x gender x age group), None for plain labels.
    """

    df: pd.DataFrame
    classes: list[str]
    layout: str
    excluded: int
    source: Path
    schema: LayoutSchema | None = None

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}


def _truthy(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().str.lower().isin(("1", "true", "yes", "1.0"))


def read_labels(labels_csv: str | os.PathLike[str], *, classes: list[str] | None = None) -> LabelsTable:
    """Parse and validate a labels file; excluded rows are dropped here, before any loader.

    Parameters
    ----------
    labels_csv : path
        The exported ``labels.csv``.
    classes : list of str, optional
        Fix the class list (e.g. the one a checkpoint was trained with). Default: the 18
        mask classes for the mask layout, otherwise the sorted labels of the kept rows.

    Raises
    ------
    LabelsError
        Missing columns, an empty file, an unknown label or a ``class_index`` that
        disagrees with ``label``, naming the CSV line (header = line 1).
    """
    src = Path(labels_csv)
    try:
        df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise LabelsError(f"{src}: cannot read labels file: {e}") from e
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise LabelsError(f"{src}: missing column(s) {', '.join(missing)}; expected at least {', '.join(REQUIRED)}")
    df["_line"] = range(2, len(df) + 2)
    if "person" not in df.columns:
        df["person"] = ""
    dup = df["image_id"].duplicated(keep="first")
    if dup.any():
        row = df.loc[dup].iloc[0]
        raise LabelsError(f"{src}:{row['_line']}: image_id {row['image_id']!r} appears twice")
    excl = _truthy(df["excluded"]) if "excluded" in df.columns else pd.Series(False, index=df.index)
    kept = df.loc[~excl].reset_index(drop=True)
    if kept.empty:
        raise LabelsError(f"{src}: no trainable rows ({int(excl.sum())} excluded of {len(df)})")
    schema = schema_for_columns(df.columns)
    is_mask = schema is not None
    layout = schema.name if schema is not None else "generic"
    if classes is None:
        classes = list(schema.class_names) if schema is not None else sorted(kept["label"].unique().tolist())
    index = {c: i for i, c in enumerate(classes)}
    unknown = ~kept["label"].isin(index)
    if unknown.any():
        row = kept.loc[unknown].iloc[0]
        raise LabelsError(f"{src}:{row['_line']}: label {row['label']!r} is not one of the {len(classes)} classes")
    kept["target"] = kept["label"].map(index).astype(int)
    if is_mask:
        ci = pd.to_numeric(kept["class_index"], errors="coerce")
        bad = ci.isna() | (ci != kept["target"])
        if bad.any():
            row = kept.loc[bad].iloc[0]
            raise LabelsError(f"{src}:{row['_line']}: class_index {row['class_index']!r} disagrees with "
                              f"label {row['label']!r}")
    kept["person"] = kept["person"].astype(str)
    return LabelsTable(kept.drop(columns="_line"), list(classes), layout, int(excl.sum()), src, schema)


def read_face_boxes(path: str | os.PathLike[str] | None) -> dict[str, tuple[float, float, float, float]]:
    """Face boxes ``image_id -> FaceBox`` (``x1, y1, x2, y2`` first, original pixels) from ``faces.parquet``.

    Tolerates absence: a missing file or ``None`` gives ``{}`` (every image then falls back
    to the centre crop). Read by the one ``faces.parquet`` reader (``labelscope.faces.load_faces``).
    """
    from ..faces.stage import face_boxes, load_faces

    if path is None:
        return {}
    try:
        return face_boxes(load_faces(Path(path), missing_ok=True))
    except ValueError as e:  # a table without box columns: say which file
        raise LabelsError(str(e)) from e
