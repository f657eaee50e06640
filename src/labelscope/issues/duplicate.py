"""Duplicates: exact copies (same bytes) and near copies (perceptual hash), worst when labels differ.

The groups come from ``labelscope.eda.find_duplicates`` (exact by SHA-1, near by pHash
distance <= 4 bits; for the mask layout near pairs inside one person are left out, since a
person's photos look alike by design). With an embedding at hand a near copy must also be
close in embedding space (cosine >= 0.9 after z-scoring): a 64-bit hash alone confuses
different people photographed, or drawn, alike (measured on the demo: 19 of 20 "near copies"
across people had cosines of -0.04 to 0.76; real copies 0.9 to 1). This module turns the
groups into issue rows: one per extra copy (every member but the first of a group), naming
the whole group. Scores: 0.0 exact copies with different labels, 0.05 near copies with
different labels, 0.4 exact and 0.6 near copies with the same label.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import Manifest
from .attribute import choose_embeddings
from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "duplicate"
MAX_DISTANCE = 4
NEAR_MIN_COSINE = 0.9
SCORES = {("exact", True): 0.0, ("near", True): 0.05, ("exact", False): 0.4, ("near", False): 0.6}


def duplicate_rows(features: pd.DataFrame, manifest: Manifest, *, max_distance: int = MAX_DISTANCE,
                   embedding=None) -> pd.DataFrame:
    """Issue rows for the extra copies of each duplicate group among the manifest's images.

    ``embedding`` (optional): near copies must also have a cosine >= ``NEAR_MIN_COSINE`` to
    their group's first image in it (z-scored).
    """
    from ..eda import find_duplicates

    labels = manifest.df
    feats = features[features["image_id"].isin(labels["image_id"])]
    dups = find_duplicates(feats, labels, label="label", max_distance=max_distance,
                           skip_same_group=manifest.schema.groups_are_people)
    if not len(dups.groups):
        return empty_issues(NAME)
    person = labels.set_index("image_id")["group_id"].astype(str)
    close = _cosine_to_first(embedding)
    rows = []
    for g in dups.groups.itertuples(index=False):
        members = dups.members[dups.members["group"] == g.group]
        ids, labs = members["image_id"].tolist(), members["label"].astype(str).tolist()
        if g.kind == "near" and close is not None:
            keep = [k for k, i in enumerate(ids) if k == 0 or close(ids[0], i) >= NEAR_MIN_COSINE]
            ids, labs = [ids[k] for k in keep], [labs[k] for k in keep]
            if len(ids) < 2:
                continue
        differ = len(set(labs)) > 1
        for k in range(1, len(ids)):
            others = labs[:k] + labs[k + 1:]
            common = max(set(others), key=others.count)
            rows.append({
                "image_id": ids[k], "person": person.get(ids[k], ""), "field": "",
                f"is_{NAME}_issue": True, f"{NAME}_score": SCORES[(g.kind, differ)],
                "given": labs[k], "suggested": common if common != labs[k] else "", "confidence": np.nan,
                "detail": f"{g.kind} copy of {ids[0]}" + (f" labelled {labs[0]}" if differ else " (same label)"),
                "images": ";".join(ids),
            })
    return issue_frame(NAME, pd.DataFrame(rows)) if rows else empty_issues(NAME)


def _cosine_to_first(embedding):
    """``close(a, b)`` -> cosine of two images in the z-scored embedding (1.0 when one is absent)."""
    if embedding is None:
        return None
    from ..embed import combine

    z = combine([embedding])
    X = z.vectors / np.maximum(np.linalg.norm(z.vectors, axis=1, keepdims=True), 1e-12)
    pos = {i: k for k, i in enumerate(z.image_ids)}

    def close(a: str, b: str) -> float:
        return float(X[pos[a]] @ X[pos[b]]) if a in pos and b in pos else 1.0

    return close


def run(inputs: IssueInputs) -> pd.DataFrame:
    if inputs.features is None or not len(inputs.features):
        return empty_issues(NAME)
    chosen = choose_embeddings(inputs.embeddings, "outlier")
    return duplicate_rows(inputs.features, inputs.manifest, embedding=chosen[0] if chosen else None)


CHECK = Check(NAME, "Exact or near copies of another image", run, needs=("features",), order=1)
