"""Row filters of the Review page (class, attributes, review state, person), as a pure function."""
from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd

from ..dataset import Manifest

REVIEW_STATES = ("all", "flagged", "not flagged", "excluded", "changed", "confirmed", "not reviewed")


def filter_labels(df: pd.DataFrame, *, classes: Iterable[str] | None = None,
                  attributes: Mapping[str, Iterable[str]] | None = None, state: str = "all",
                  group: str | None = None, search: str = "") -> pd.DataFrame:
    """Rows of a ``current_labels`` table that match every given filter.

    Parameters
    ----------
    df : DataFrame
        ``current_labels(...).df`` (needs flagged, excluded, changed, confirmed, last_reviewer).
    classes : iterable of str, optional
        Keep these ``label`` values (empty or None: all).
    attributes : mapping column -> values, optional
        Keep rows whose column is in the values (an empty selection means no filter).
    state : str
        One of REVIEW_STATES.
    group : str, optional
        Keep one person / group id.
    search : str
        Case-insensitive substring of ``image_id``.
    """
    if state not in REVIEW_STATES:
        raise ValueError(f"unknown review state {state!r}; expected one of {', '.join(REVIEW_STATES)}")
    keep = pd.Series(True, index=df.index)
    classes = list(classes or [])
    if classes:
        keep &= df["label"].astype(str).isin(classes)
    for col, values in (attributes or {}).items():
        values = [str(v) for v in values or []]
        if values:
            if col not in df.columns:
                raise ValueError(f"unknown attribute {col!r}")
            keep &= df[col].astype(str).isin(values)
    if state == "flagged":
        keep &= df["flagged"]
    elif state == "not flagged":
        keep &= ~df["flagged"]
    elif state in ("excluded", "changed", "confirmed"):
        keep &= df[state]
    elif state == "not reviewed":
        keep &= df["last_reviewer"] == ""
    if group:
        keep &= df["group_id"].astype(str) == str(group)
    if search:
        keep &= df["image_id"].str.contains(search, case=False, regex=False)
    return df[keep]


def filter_choices(manifest: Manifest) -> list[tuple[str, str, list[str]]]:
    """The Review page's attribute filters: ``(column, title, options)`` per factor of the schema.

    Options are the values present (sorted) for a factor that is a field itself (mask,
    gender), and the factor's own values for a binned one (age group: ``<30, 30-59, >=60``).
    """
    out = []
    for f in manifest.schema.factors:
        options = list(f.values) if f.name != f.field else sorted(manifest.df[f.name].astype(str).unique())
        out.append((f.name, f.name.replace("_", " ").capitalize(), options))
    return out
