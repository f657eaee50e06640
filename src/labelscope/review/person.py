"""One person's (group's) photos and attributes, for the Person view."""
from __future__ import annotations

from pathlib import PurePosixPath

import pandas as pd

from ..dataset import Manifest
from ..dataset.mask import EXPECTED_STEMS


def group_ids(manifest: Manifest) -> list[str]:
    """Non-empty group (person) ids in the order the dataset lists them."""
    g = manifest.df["group_id"].astype(str)
    return list(dict.fromkeys(g[g != ""]))


def person_rows(df: pd.DataFrame, group_id: str) -> pd.DataFrame:
    """The rows of one group; mask-layout photos in their natural order (mask1..5, incorrect, normal)."""
    rows = df[df["group_id"].astype(str) == str(group_id)]
    order = {s: n for n, s in enumerate(EXPECTED_STEMS)}
    key = rows["image_id"].map(lambda i: (order.get(PurePosixPath(i).stem, len(order)), i))
    return rows.assign(_k=key).sort_values("_k").drop(columns="_k")


def person_attributes(rows: pd.DataFrame, fields: list[str]) -> dict[str, tuple[str, bool]]:
    """For each field: (most common value today, True when every photo agrees)."""
    out = {}
    for f in fields:
        counts = rows[f].astype(str).value_counts()
        out[f] = (str(counts.index[0]) if len(counts) else "", len(counts) <= 1)
    return out
