"""Duplicates: exact copies (same bytes) and near copies (perceptual hash), worst when labels differ.

The groups come from ``labelscope.quality`` (exact by SHA-1, near by pHash distance); this
module only turns them into issue rows: one row per extra copy (every member but the first
of a group), naming the whole group. Scores: 0.0 exact copies with different labels, 0.05
near copies with different labels, 0.4 exact and 0.6 near copies with the same label.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "duplicate"
SCORES = {("exact", True): 0.0, ("near", True): 0.05, ("exact", False): 0.4, ("near", False): 0.6}


def duplicate_groups(features: pd.DataFrame) -> pd.DataFrame:
    """Columns ``image_id``, ``group`` (int), ``kind`` ("exact" / "near"), one row per member.

    An image in an exact group is not repeated in a near group.
    """
    from .. import quality

    exact = quality.exact_duplicate_groups(features)
    near = quality.near_duplicate_groups(features)
    frames = []
    for kind, groups in (("exact", exact), ("near", near)):
        frames.append(_as_members(groups, kind))
    out = pd.concat(frames, ignore_index=True)
    in_exact = set(out.loc[out["kind"] == "exact", "image_id"])
    near_rows = out["kind"] == "near"
    # a near group made only of one exact group's copies adds nothing
    keep = ~near_rows | ~out["group"].map(
        out[near_rows].groupby("group")["image_id"].agg(lambda s: set(s) <= in_exact)).fillna(False).astype(bool)
    return out[keep].reset_index(drop=True)


def _as_members(groups, kind: str) -> pd.DataFrame:
    """Accept a list of id lists, or a frame with ``image_id`` and a group column."""
    if isinstance(groups, pd.DataFrame):
        gcol = next(c for c in groups.columns if c != "image_id" and ("group" in c or c == "sha1" or c == "phash"))
        codes = pd.factorize(groups[gcol].astype(str))[0]
        df = pd.DataFrame({"image_id": groups["image_id"].astype(str), "group": codes})
    else:
        df = pd.DataFrame([(str(i), g) for g, members in enumerate(groups) for i in members],
                          columns=["image_id", "group"])
    df = df[df.groupby("group")["image_id"].transform("size") > 1]
    df["kind"] = kind
    df["group"] = df["group"].astype(str) + f":{kind}"
    return df


def duplicate_rows(groups: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Issue rows for the extra copies of each group (``labels`` indexed by image_id)."""
    rows = []
    for _, members in groups.groupby("group", sort=False):
        ids = [i for i in sorted(members["image_id"]) if i in labels.index]
        if len(ids) < 2:
            continue
        kind = members["kind"].iloc[0]
        lab = labels.loc[ids, "label"].astype(str).to_numpy()
        differ = len(set(lab)) > 1
        for k in range(1, len(ids)):
            others = [lab[j] for j in range(len(ids)) if j != k]
            common = max(set(others), key=others.count)
            rows.append({
                "image_id": ids[k], "person": str(labels.loc[ids[k], "group_id"]), "field": "",
                f"is_{NAME}_issue": True, f"{NAME}_score": SCORES[(kind, differ)],
                "given": lab[k], "suggested": common if common != lab[k] else "",
                "confidence": np.nan,
                "detail": (f"{kind} copy of {ids[0]}" + (f" labelled {lab[0]}" if differ else " (same label)")),
                "images": ";".join(ids),
            })
    if not rows:
        return empty_issues(NAME)
    return issue_frame(NAME, pd.DataFrame(rows))


def run(inputs: IssueInputs) -> pd.DataFrame:
    if inputs.features is None or not len(inputs.features):
        return empty_issues(NAME)
    groups = duplicate_groups(inputs.features)
    if not len(groups):
        return empty_issues(NAME)
    return duplicate_rows(groups, inputs.manifest.df.set_index("image_id"))


CHECK = Check(NAME, "Exact or near copies of another image", run, needs=("features",))
