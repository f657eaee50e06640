"""Duplicates: exact copies (same bytes) and near copies (perceptual hash), worst when labels differ.

The groups come from ``labelscope.quality.find_duplicates`` (exact by SHA-1, near by pHash
distance <= 4 bits; for the mask layout near pairs inside one person are left out, since a
person's photos look alike by design). This module only turns them into issue rows: one row
per extra copy (every member but the first of a group), naming the whole group. Scores: 0.0
exact copies with different labels, 0.05 near copies with different labels, 0.4 exact and
0.6 near copies with the same label.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import Manifest
from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "duplicate"
MAX_DISTANCE = 4
SCORES = {("exact", True): 0.0, ("near", True): 0.05, ("exact", False): 0.4, ("near", False): 0.6}


def duplicate_rows(features: pd.DataFrame, manifest: Manifest, *, max_distance: int = MAX_DISTANCE) -> pd.DataFrame:
    """Issue rows for the extra copies of each duplicate group among the manifest's images."""
    from ..quality import find_duplicates

    labels = manifest.df
    feats = features[features["image_id"].isin(labels["image_id"])]
    dups = find_duplicates(feats, labels, label="label", max_distance=max_distance,
                           skip_same_group=manifest.layout == "mask")
    if not len(dups.groups):
        return empty_issues(NAME)
    person = labels.set_index("image_id")["group_id"].astype(str)
    rows = []
    for g in dups.groups.itertuples(index=False):
        members = dups.members[dups.members["group"] == g.group]
        ids, labs = members["image_id"].tolist(), members["label"].astype(str).tolist()
        for k in range(1, len(ids)):
            others = labs[:k] + labs[k + 1:]
            common = max(set(others), key=others.count)
            rows.append({
                "image_id": ids[k], "person": person.get(ids[k], ""), "field": "",
                f"is_{NAME}_issue": True, f"{NAME}_score": SCORES[(g.kind, bool(g.labels_differ))],
                "given": labs[k], "suggested": common if common != labs[k] else "", "confidence": np.nan,
                "detail": f"{g.kind} copy of {ids[0]}" + (f" labelled {labs[0]}" if g.labels_differ
                                                           else " (same label)"),
                "images": ";".join(ids),
            })
    return issue_frame(NAME, pd.DataFrame(rows))


def run(inputs: IssueInputs) -> pd.DataFrame:
    if inputs.features is None or not len(inputs.features):
        return empty_issues(NAME)
    return duplicate_rows(inputs.features, inputs.manifest)


CHECK = Check(NAME, "Exact or near copies of another image", run, needs=("features",))
