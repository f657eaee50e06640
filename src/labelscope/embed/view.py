"""Tables behind the Embeddings page's scatter: points, the colour of each, and its hover text.

Pure pandas: the page only draws what ``scatter_frame`` returns.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import BEST_EMBEDDERS

REVIEW_STATE = "review state"
SUSPECT_SCORE = "suspect score"
SCAN_EMBEDDERS = ("colour", "pixels")   # built from the scan's own features: a first map, no model
QUICK_MAP = "colour"                   # the one the Embeddings page computes itself right after a scan
PREFERRED = BEST_EMBEDDERS


def default_feature_sets(done: list[str]) -> list[str]:
    """What the map shows by default: the preferred model embeddings that exist, else any model
    embedding, else what the scan gave (``colour`` / ``pixels``)."""
    better = [n for n in done if n not in SCAN_EMBEDDERS]
    return [n for n in PREFERRED if n in better] or better[:1] or [n for n in SCAN_EMBEDDERS if n in done][:1]
NO_DECISION = "no decision"


def colour_options(attributes: list[str], *, has_suspects: bool) -> list[str]:
    """What the scatter can be coloured by: the manifest's attributes, review state, suspect score."""
    return [*attributes, REVIEW_STATE, *([SUSPECT_SCORE] if has_suspects else [])]


def suspect_scores(workspace: Any) -> pd.Series | None:
    """image_id -> lowest suspect score (0 = most suspicious) from ``suspects.parquet``; None if absent.

    Rows without an image id (person-level findings) are left out; a table without the
    ``image_id`` and ``score`` columns counts as absent.
    """
    path = getattr(workspace, "suspects", None)
    if path is None or not path.is_file():
        return None
    try:
        df = pd.read_parquet(path, columns=["image_id", "score"])
    except Exception:
        return None
    df = df[df["image_id"].astype(str).str.len() > 0]
    scores = pd.to_numeric(df["score"], errors="coerce")
    return scores.groupby(df["image_id"].astype(str)).min()


def review_state(labels: pd.DataFrame) -> pd.Series:
    """One word per image: excluded > flagged > changed > confirmed > no decision."""
    out = pd.Series(NO_DECISION, index=labels.index, dtype=object)
    for col in ("confirmed", "changed", "flagged", "excluded"):  # later wins
        if col in labels.columns:
            out[labels[col].fillna(False).astype(bool).to_numpy()] = col
    return out


def scatter_frame(xy: pd.DataFrame, labels: pd.DataFrame, colour_by: str, *,
                  scores: pd.Series | None = None) -> pd.DataFrame:
    """Points of the map with their colour value.

    Parameters
    ----------
    xy : DataFrame
        ``image_id``, ``x``, ``y`` (a ``project`` result).
    labels : DataFrame
        Today's labels (``current_labels(...).df``): ``image_id``, ``label`` and attributes,
        with the review columns when available.
    colour_by : str
        An attribute column, ``"review state"`` or ``"suspect score"``.
    scores : Series, optional
        image_id -> suspect score, for ``"suspect score"``.

    Returns
    -------
    DataFrame
        ``image_id``, ``x``, ``y``, ``label``, ``colour`` (str categories, or float scores with
        NaN for images without a finding), in the order of ``xy``. Images no longer in the
        dataset are dropped.
    """
    lab = labels.drop_duplicates("image_id").set_index("image_id")
    df = xy[xy["image_id"].isin(lab.index)].reset_index(drop=True)
    rows = lab.loc[df["image_id"]]
    df["label"] = rows["label"].astype(str).to_numpy()
    if colour_by == REVIEW_STATE:
        df["colour"] = review_state(rows).to_numpy()
    elif colour_by == SUSPECT_SCORE:
        s = scores if scores is not None else pd.Series(dtype=float)
        df["colour"] = df["image_id"].map(s).astype(float).to_numpy()
    elif colour_by in lab.columns:
        df["colour"] = rows[colour_by].astype(str).to_numpy()
    else:
        raise ValueError(f"cannot colour by {colour_by!r}; choose one of the label columns, "
                         f"{REVIEW_STATE!r} or {SUSPECT_SCORE!r}")
    return df


def selection_rows(labels: pd.DataFrame, image_ids: list[str]) -> pd.DataFrame:
    """The label rows of ``image_ids`` in selection order; ids not in ``labels`` are dropped."""
    lab = labels.drop_duplicates("image_id").set_index("image_id", drop=False)
    ids = [i for i in dict.fromkeys(image_ids) if i in lab.index]
    return lab.loc[ids].reset_index(drop=True)


def category_order(values: pd.Series) -> list[str]:
    """Categories, most frequent first (a stable legend and colour assignment)."""
    counts = values.value_counts(sort=True)
    return sorted(counts.index.tolist(), key=lambda v: (-int(counts[v]), str(v)))


def is_numeric_colour(df: pd.DataFrame) -> bool:
    return bool(len(df)) and pd.api.types.is_numeric_dtype(df["colour"].dtype)
