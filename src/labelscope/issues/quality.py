"""Image quality: unreadable, tiny, blank or very dark (or blown-out) images, from the scan.

The flags come from ``labelscope.eda.quality_flags`` with stricter thresholds than the
Quality page's defaults (a suspect must be worth a reviewer's time): shorter side under 32 px,
mean luminance under 20 or over 250, luminance standard deviation under 5 (blank). Tiny, dark
and blank are also relative: an image is a suspect only when it is far below its class and the
dataset too (under ``RELATIVE`` = half the median of its class and half the median of the
dataset), so a tiny image in a class of tiny images is not an outlier (on real photos the
incorrectly-worn crops are small as a class; following an absolute "tiny" there excluded half
a minority class). An unreadable image scores 0 (nothing else can be said about it), any
other ``0.3 / flags``. Accepting a quality suspect excludes the image; the Queue says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "quality"
USED_FLAGS = ("unreadable", "tiny", "low_contrast", "dark", "bright")
WORDS = {"unreadable": "unreadable", "tiny": "tiny", "low_contrast": "blank (almost no contrast)",
         "dark": "very dark", "bright": "blown out"}


def suspect_thresholds():
    from ..eda import QualityThresholds

    return QualityThresholds(dark=20, bright=250, low_contrast=5, tiny=32)


RELATIVE = 0.5
RELATIVE_FLAGS = {"tiny": "side", "dark": "brightness", "low_contrast": "contrast"}


def relative_outliers(features: pd.DataFrame, labels: pd.DataFrame, *, share: float = RELATIVE) -> pd.DataFrame:
    """Per image and measure (``side`` = shorter side, ``brightness``, ``contrast``): True when the
    value is under ``share`` x the median of its class and under ``share`` x the dataset's median.

    ``labels`` is indexed by image_id with a ``label`` column; images without a label count only
    against the dataset. Returns a frame aligned with ``features`` (columns: the measures).
    """
    ok = features["error"].fillna("").astype(str) == ""
    values = pd.DataFrame({"side": np.fmin(features["width"].astype(float), features["height"].astype(float)),
                           "brightness": features["brightness"].astype(float),
                           "contrast": features["contrast"].astype(float)}, index=features.index)
    values[~ok] = np.nan
    cls = features["image_id"].map(labels["label"]) if "label" in labels.columns else pd.Series("", index=features.index)
    out = pd.DataFrame(index=features.index)
    for m in values.columns:
        overall = values[m].median()
        by_class = values[m].groupby(cls.fillna("")).transform("median")
        out[m] = (values[m] < share * overall) & (values[m] < share * by_class.fillna(overall))
    return out


def quality_rows(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Issue rows for images with one of ``USED_FLAGS`` (``labels`` indexed by image_id); tiny,
    dark and blank only where the image is also far below its class and the dataset."""
    from ..eda import quality_flags

    flags = quality_flags(features, thresholds=suspect_thresholds())
    far = relative_outliers(features.reset_index(drop=True), labels)
    flags = flags.reset_index(drop=True)
    for flag, measure in RELATIVE_FLAGS.items():
        flags[flag] = flags[flag].to_numpy() & far[measure].to_numpy()
    hit = flags[flags[list(USED_FLAGS)].any(axis=1) & flags["image_id"].isin(labels.index)]
    if not len(hit):
        return empty_issues(NAME)
    rows = []
    for r in hit.to_dict("records"):
        problems = [f for f in USED_FLAGS if r[f]]
        unreadable = "unreadable" in problems
        rows.append({
            "image_id": r["image_id"], "person": str(labels.at[r["image_id"], "group_id"]), "field": "",
            f"is_{NAME}_issue": True, f"{NAME}_score": 0.0 if unreadable else 0.3 / len(problems),
            "given": str(labels.at[r["image_id"], "label"]),
            "detail": f"unreadable: {r['error']}" if unreadable else
            ", ".join(WORDS[p] for p in problems) + (" (far below its class and the dataset)"
                                                     if set(problems) & set(RELATIVE_FLAGS) else ""),
        })
    return issue_frame(NAME, pd.DataFrame(rows))


def run(inputs: IssueInputs) -> pd.DataFrame:
    if inputs.features is None or not len(inputs.features):
        return empty_issues(NAME)
    return quality_rows(inputs.features, inputs.manifest.df.set_index("image_id"))


CHECK = Check(NAME, "Unreadable, tiny, blank or very dark", run, needs=("features",), order=0,
              label="Image quality")
