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


def partial_persons(manifest: Manifest, image_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Persons of which ``image_ids`` name some but not all photos: group_id -> (named, all).

    A change of a person field (gender, age, race) on such a selection leaves the person
    inconsistent; the app asks whether to apply it to every photo instead.
    """
    df = manifest.df
    if not manifest.person_fields or df.empty:
        return {}
    gid = df["group_id"].astype(str)
    named = gid[df["image_id"].isin(set(image_ids))]
    sizes = gid[gid.isin(set(named))].value_counts()
    hits = named[named != ""].value_counts()
    return {g: (int(n), int(sizes[g])) for g, n in hits.items() if n < sizes[g]}


def with_whole_persons(manifest: Manifest, image_ids: list[str]) -> list[str]:
    """``image_ids`` plus every other photo of the persons they belong to (input order first)."""
    df = manifest.df
    gid = df["group_id"].astype(str)
    groups = set(gid[df["image_id"].isin(set(image_ids))]) - {""}
    more = df.loc[gid.isin(groups), "image_id"].tolist()
    return list(dict.fromkeys(list(image_ids) + more))
