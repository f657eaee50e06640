"""Person issues (mask layout): what a person's 7 photos say together.

- ``gender`` and ``age``: one value per person, decided from all of the person's photos'
  probabilities at once (normalised geometric mean), so one odd photo does not decide and a
  wrong value in train.csv stands out once, not seven times.
- ``mask``: exactly one ``incorrect`` and one ``not_wear`` photo per person. The photos'
  mask probabilities are matched to the person's slots as an assignment problem
  (``scipy.optimize.linear_sum_assignment``); when the best assignment is not the one on
  file, two photos were most likely swapped (``incorrect_mask`` <-> ``normal``).

Scores: the share of the evidence for the value on file (gender, age), and the likelihood
ratio of the assignment on file to the best one (mask); low = suspicious.
"""
from __future__ import annotations

from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from .attribute import AttributeProbs, attribute_probs
from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "person"
EPS = 1e-6


def person_posterior(probs: np.ndarray) -> np.ndarray:
    """Normalised geometric mean of a person's photo probabilities, (n, C) -> (C,)."""
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0)).mean(axis=0)
    p = np.exp(logp - logp.max())
    return p / p.sum()


def mask_assignment(probs: np.ndarray, given: np.ndarray) -> tuple[np.ndarray, float]:
    """Best assignment of a person's photos to the mask slots on file, and its evidence.

    Parameters
    ----------
    probs : (n, C) mask probabilities of the person's n photos.
    given : (n,) int mask index on file per photo; the multiset of these values is the
        set of slots to fill (normally 5 x wear, 1 x incorrect, 1 x not_wear).

    Returns
    -------
    (best, score): (n,) best mask index per photo, and ``exp(-(cost_on_file - cost_best))``
    in (0, 1] with cost = -sum log p; 1 when the assignment on file is the best one.
    """
    given = np.asarray(given, dtype=np.int64)
    cost = -np.log(np.clip(np.asarray(probs, dtype=np.float64), EPS, 1.0))
    from scipy.optimize import linear_sum_assignment

    slots = given  # slot j holds value given[j]
    matrix = cost[:, slots]
    rows, cols = linear_sum_assignment(matrix)
    best = np.empty_like(given)
    best[rows] = slots[cols]
    delta = cost[np.arange(len(given)), given].sum() - matrix[rows, cols].sum()
    return best, float(np.exp(-max(delta, 0.0)))


def _person_field_rows(ap: AttributeProbs, df: pd.DataFrame, field: str) -> list[dict]:
    persons = df.set_index("image_id").loc[ap.image_ids, "group_id"].astype(str).to_numpy()
    rows = []
    for person in pd.unique(persons):
        sel = np.flatnonzero(persons == person)
        post = person_posterior(ap.probs[sel])
        g = int(np.bincount(ap.given[sel], minlength=len(ap.classes)).argmax())
        other = post.copy()
        other[g] = -1
        b = int(other.argmax())
        given = ap.classes[g]
        if field == "age":
            ages = df.loc[df["group_id"].astype(str) == person, "age"]
            given = f"{ap.classes[g]} (age {int(ages.iloc[0])})" if len(ages) else given
        rows.append({
            "person": person, "field": field, "is_person_issue": bool(post.argmax() != g),
            "person_score": float(post[g]), "given": given, "suggested": ap.classes[b],
            "confidence": float(post[b]),
            "detail": f"{len(sel)} photos together: {ap.classes[g]} {post[g]:.0%}, {ap.classes[b]} {post[b]:.0%}",
            "images": ";".join(ap.image_ids[sel]),
        })
    return rows


def _mask_rows(ap: AttributeProbs, df: pd.DataFrame) -> list[dict]:
    persons = df.set_index("image_id").loc[ap.image_ids, "group_id"].astype(str).to_numpy()
    rows = []
    for person in pd.unique(persons):
        sel = np.flatnonzero(persons == person)
        if len(set(ap.given[sel].tolist())) < 2:
            continue
        best, score = mask_assignment(ap.probs[sel], ap.given[sel])
        moved = np.flatnonzero(best != ap.given[sel])
        names = [PurePosixPath(i).name for i in ap.image_ids[sel]]
        given = ", ".join(f"{names[k]}={ap.classes[ap.given[sel][k]]}" for k in moved)
        suggested = ", ".join(f"{names[k]}={ap.classes[best[k]]}" for k in moved)
        rows.append({
            "person": person, "field": "mask", "is_person_issue": bool(len(moved) and score < 0.5),
            "person_score": score, "given": given, "suggested": suggested,
            "confidence": 1.0 / (1.0 + score) if len(moved) else np.nan,
            "detail": (f"photos look swapped: {suggested}" if len(moved) else "mask photos consistent"),
            "images": ";".join(ap.image_ids[sel][moved]) if len(moved) else ";".join(ap.image_ids[sel]),
        })
    return rows


def run(inputs: IssueInputs) -> pd.DataFrame:
    df = inputs.manifest.df
    rows: list[dict] = []
    schema = inputs.manifest.schema
    group_factors = [(f.name, f.field) for f in schema.factors if f.field in schema.person_fields]
    for attribute, field in group_factors:  # mask layout: (gender, gender), (age_group, age)
        ap = attribute_probs(inputs, attribute)
        if ap is not None:
            rows += _person_field_rows(ap, df, field)
    ap = attribute_probs(inputs, "mask")
    if ap is not None:
        rows += _mask_rows(ap, df)
    if not rows:
        return empty_issues(NAME)
    out = issue_frame(NAME, pd.DataFrame(rows))
    out["image_id"] = ""
    return out


CHECK = Check(NAME, "A person's photos disagree with the person's labels", run,
              needs=("pred_probs", "embeddings"), factors=("mask", "gender", "age_group"), order=2)
