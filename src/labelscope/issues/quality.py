"""Image quality: unreadable, tiny, blank or very dark images, from the scan's features.

The flags come from ``labelscope.quality``; this module turns them into issue rows. An
unreadable image scores 0 (nothing else can be said about it), any other quality flag
``0.3 / number of flags`` (several problems at once rank higher).
"""
from __future__ import annotations

import pandas as pd

from .base import Check, IssueInputs, empty_issues, issue_frame

NAME = "quality"


def quality_flags(features: pd.DataFrame) -> pd.DataFrame:
    """``image_id`` plus one boolean column per problem (``unreadable`` among them)."""
    from .. import quality

    flags = quality.quality_flags(features)
    if "unreadable" not in flags.columns:
        err = features.set_index("image_id")["error"].fillna("").astype(str)
        flags["unreadable"] = flags["image_id"].map(err).fillna("") != ""
    return flags


def quality_rows(flags: pd.DataFrame, features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    problem_cols = [c for c in flags.columns if c != "image_id" and flags[c].dtype == bool]
    hit = flags[flags[problem_cols].any(axis=1)]
    hit = hit[hit["image_id"].isin(labels.index)]
    if not len(hit):
        return empty_issues(NAME)
    err = features.set_index("image_id")["error"].fillna("").astype(str)
    rows = []
    for r in hit.itertuples(index=False):
        rd = r._asdict()
        problems = [c for c in problem_cols if rd[c]]
        unreadable = "unreadable" in problems
        detail = f"unreadable: {err.get(rd['image_id'], '')}" if unreadable else ", ".join(p.replace("_", " ")
                                                                                               for p in problems)
        rows.append({
            "image_id": rd["image_id"], "person": str(labels.loc[rd["image_id"], "group_id"]), "field": "",
            f"is_{NAME}_issue": True, f"{NAME}_score": 0.0 if unreadable else 0.3 / len(problems),
            "given": str(labels.loc[rd["image_id"], "label"]), "detail": detail,
        })
    return issue_frame(NAME, pd.DataFrame(rows))


def run(inputs: IssueInputs) -> pd.DataFrame:
    if inputs.features is None or not len(inputs.features):
        return empty_issues(NAME)
    return quality_rows(quality_flags(inputs.features), inputs.features, inputs.manifest.df.set_index("image_id"))


CHECK = Check(NAME, "Unreadable, tiny, blank or very dark", run, needs=("features",))
