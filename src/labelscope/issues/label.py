"""Label issues: images whose given label their out-of-sample probabilities disagree with.

cleanlab's label-quality score (self-confidence) on the average of the model's out-of-fold
probabilities and the 20-neighbour label vote; flagged by ``cleanlab.filter.find_label_issues``
(prune by noise rate). The suggestion is the most likely other value, with its probability.

For the mask layout this check judges the image's own attribute, ``mask``; gender and age
belong to the person and are judged once per person by the ``person`` check.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .attribute import AttributeProbs, attribute_probs
from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "label"


def label_quality(given: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """cleanlab self-confidence: the probability of the given label, shape (n,), in [0, 1]."""
    from cleanlab.rank import get_label_quality_scores

    return np.asarray(get_label_quality_scores(np.asarray(given), np.asarray(probs), method="self_confidence"))


def flag_label_issues(given: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Boolean (n,) mask from ``cleanlab.filter.find_label_issues`` (prune by noise rate).

    Falls back to "another class is more likely" when cleanlab cannot run (a class with no
    example, fewer images than classes).
    """
    from cleanlab.filter import find_label_issues

    n_classes = probs.shape[1]
    present = np.bincount(given, minlength=n_classes) > 0
    try:
        if present.all() and len(given) > n_classes:
            return np.asarray(find_label_issues(given, probs, filter_by="prune_by_noise_rate", n_jobs=1), bool)
    except (ValueError, ZeroDivisionError):
        pass
    return probs.argmax(axis=1) != given


def suggest(given: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index, probability) of the most likely class other than the given one, per row."""
    p = np.array(probs, dtype=np.float64, copy=True)
    p[np.arange(len(given)), given] = -1.0
    best = p.argmax(axis=1)
    return best, p[np.arange(len(given)), best]


def label_issue_rows(ap: AttributeProbs, manifest_df: pd.DataFrame) -> pd.DataFrame:
    """The check's rows for one attribute's probabilities (every image scored)."""
    score = label_quality(ap.given, ap.probs)
    flagged = flag_label_issues(ap.given, ap.probs)
    best, conf = suggest(ap.given, ap.probs)
    classes = np.asarray(ap.classes, dtype=object)
    person = manifest_df.set_index("image_id").loc[ap.image_ids, "group_id"].astype(str).to_numpy()
    field = "mask" if ap.attribute == "mask" else "label"
    detail = [f"model and neighbours give {classes[g]} {s:.0%}; {classes[b]} {c:.0%}"
              for g, s, b, c in zip(ap.given, ap.probs[np.arange(len(best)), ap.given], best, conf)]
    return issue_frame(NAME, {
        "image_id": ap.image_ids, "person": person, "field": field,
        f"is_{NAME}_issue": flagged, f"{NAME}_score": score,
        "given": classes[ap.given], "suggested": classes[best], "confidence": conf, "detail": detail,
    })


def run(inputs: IssueInputs) -> pd.DataFrame:
    attribute = inputs.manifest.schema.image_field
    ap = attribute_probs(inputs, attribute)
    if ap is None:
        return empty_issues(NAME)
    return label_issue_rows(ap, inputs.manifest.df)


CHECK = Check(NAME, "Label disagrees with the model and the neighbours", run, needs=("pred_probs", "embeddings"),
              order=3)
