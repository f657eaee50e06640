"""Outliers: images far from all their neighbours in embedding space (not a face, another dataset).

The mean cosine distance to the 10 nearest images, as a robust z-score against the dataset
(median and MAD); score ``2 ** (-z / 2)`` for z > 0 (1 for typical images, 0.25 at z = 4),
flagged from z = 4.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .attribute import choose_embeddings
from .base import Check, IssueInputs, empty_issues, issue_frame
from .probs import knn_distance

NAME = "outlier"
K = 10
Z_FLAG = 4.0


def outlier_scores(X: np.ndarray, *, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """(score, z) per row of ``X``: score in (0, 1], low = far from every neighbour."""
    d = knn_distance(X, k=k)
    med = np.median(d)
    mad = 1.4826 * np.median(np.abs(d - med))
    z = (d - med) / max(mad, 1e-9)
    return np.power(2.0, -np.clip(z, 0, None) / 2.0), z


def run(inputs: IssueInputs) -> pd.DataFrame:
    chosen = choose_embeddings(inputs.embeddings, "outlier")
    if not chosen or len(chosen[0]) < K + 2:
        return empty_issues(NAME)
    emb = chosen[0]
    from ..embed import combine

    score, z = outlier_scores(combine([emb]).vectors)
    labels = inputs.manifest.df.set_index("image_id")
    ids = np.asarray(emb.image_ids, dtype=object)
    known = np.isin(ids, labels.index)
    ids, score, z = ids[known], score[known], z[known]
    return issue_frame(NAME, {
        "image_id": ids, "person": labels.loc[ids, "group_id"].astype(str).to_numpy(), "field": "",
        f"is_{NAME}_issue": z >= Z_FLAG, f"{NAME}_score": score,
        "given": labels.loc[ids, "label"].astype(str).to_numpy(),
        "detail": [f"far from its neighbours in {emb.name} space ({v:.1f} robust SDs)" for v in z],
    })


CHECK = Check(NAME, "Far from every other image (not a face, another dataset)", run, needs=("embeddings",),
              order=4)
