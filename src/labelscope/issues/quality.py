"""Image quality: unreadable, tiny, blank or very dark (or blown-out) images, from the scan.

The flags come from ``labelscope.eda.quality_flags`` with stricter thresholds than the
Quality page's defaults (a suspect must be worth a reviewer's time): shorter side under 32 px,
mean luminance under 20 or over 250, luminance standard deviation under 5 (blank). An
unreadable image scores 0 (nothing else can be said about it), any other ``0.3 / flags``.
"""
from __future__ import annotations

import pandas as pd

from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "quality"
USED_FLAGS = ("unreadable", "tiny", "low_contrast", "dark", "bright")
WORDS = {"unreadable": "unreadable", "tiny": "tiny", "low_contrast": "blank (almost no contrast)",
         "dark": "very dark", "bright": "blown out"}


def suspect_thresholds():
    from ..eda import QualityThresholds

    return QualityThresholds(dark=20, bright=250, low_contrast=5, tiny=32)


def quality_rows(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Issue rows for images with one of ``USED_FLAGS`` (``labels`` indexed by image_id)."""
    from ..eda import quality_flags

    flags = quality_flags(features, thresholds=suspect_thresholds())
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
            "detail": f"unreadable: {r['error']}" if unreadable else ", ".join(WORDS[p] for p in problems),
        })
    return issue_frame(NAME, pd.DataFrame(rows))


def run(inputs: IssueInputs) -> pd.DataFrame:
    if inputs.features is None or not len(inputs.features):
        return empty_issues(NAME)
    return quality_rows(inputs.features, inputs.manifest.df.set_index("image_id"))


CHECK = Check(NAME, "Unreadable, tiny, blank or very dark", run, needs=("features",))
