"""The contract every issue check follows, and what a check is given.

A check is one module in ``labelscope.issues`` exposing ``CHECK = Check(...)``. Its ``run``
takes an :class:`IssueInputs` and returns a DataFrame with one row per finding candidate:

``image_id``
    the image the row is about ("" for a row about a whole person);
``person``, ``field``
    the person (group id, "" outside the mask layout) and the label field concerned
    (``label``, ``mask``, ``gender``, ``age``...; "" when no field is concerned);
``is_<name>_issue``, ``<name>_score``
    whether the check flags the row, and a score in [0, 1] where low = more suspicious;
``given``, ``suggested``, ``confidence``
    the value on file, a better value where the check has one ("" otherwise) and the
    probability the check gives that suggestion (NaN without a suggestion);
``detail``
    one short sentence a reviewer reads;
``images``
    the image ids the row concerns, joined by ``;`` (a person's photos, a duplicate group;
    the row's own image when empty).

The algorithm lives in plain functions of each module; ``run`` only adapts inputs to them
(the idea of cleanlab's Datalab issue managers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..dataset import Manifest
from ..dataset.schema import SCHEMAS, LayoutSchema

Progress = Callable[[str, int, int], None]
COMMON_COLUMNS = ("image_id", "person", "field", "given", "suggested", "confidence", "detail", "images")


@dataclass
class IssueInputs:
    """What checks may read; each uses what it needs and says so in ``Check.needs``.

    Attributes
    ----------
    manifest : Manifest
        The dataset (one row per image), with the labels as they stand.
    pred_probs : DataFrame or None
        Out-of-sample class probabilities: ``image_id`` plus one column per class of
        ``manifest.classes`` (the training module's out-of-fold predictions).
    features : DataFrame or None
        Scan features (``labelscope.scan.load_features``).
    embeddings : list of Embedding
        Cached pretrained embeddings (``labelscope.embed``), best first.
    cache : dict
        Results one check computes and another reuses (per-attribute probabilities).
    progress : callable or None
        ``progress(stage, done, total)``.
    """

    manifest: Manifest
    pred_probs: pd.DataFrame | None = None
    features: pd.DataFrame | None = None
    embeddings: list[Any] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    progress: Progress | None = None

    def tell(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


@dataclass(frozen=True)
class Check:
    """One registered check.

    ``needs`` lists inputs of which at least one must be present ("pred_probs",
    "embeddings", "features"; empty = always runs); ``factors`` limits the check to datasets
    whose schema has those factors and whose groups are people (empty = all); ``order`` places
    it in the registry and breaks ranking ties; ``label`` is its short name in the Queue.
    """

    name: str
    title: str
    run: Callable[[IssueInputs], pd.DataFrame]
    needs: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    order: int = 100      # runs, and breaks score ties in the ranking, in this order (low first)
    label: str = ""       # the short name the Queue shows (default: the name, capitalised)

    @property
    def short(self) -> str:
        return self.label or self.name.capitalize()

    def fits(self, schema: LayoutSchema) -> bool:
        """True when a dataset of ``schema`` has what this check judges."""
        return not self.factors or (schema.groups_are_people and set(self.factors) <= set(schema.factor_names))

    @property
    def layouts(self) -> tuple[str, ...]:
        """The registered layouts this check runs on (empty = all)."""
        return () if not self.factors else tuple(n for n, s in SCHEMAS.items() if self.fits(s))

    def applies(self, inputs: IssueInputs) -> bool:
        if not self.fits(inputs.manifest.schema) or (self.factors and not inputs.manifest.has_groups):
            return False
        if not self.needs:
            return True
        have = {"pred_probs": inputs.pred_probs is not None, "embeddings": bool(inputs.embeddings),
                "features": inputs.features is not None}
        return any(have.get(n, False) for n in self.needs)


def issue_frame(name: str, rows: pd.DataFrame | dict[str, Any]) -> pd.DataFrame:
    """A check's result with the contract's columns, types and score range enforced."""
    df = pd.DataFrame(rows).copy()
    flag, score = f"is_{name}_issue", f"{name}_score"
    for col in COMMON_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan if col == "confidence" else ""
    if flag not in df.columns or score not in df.columns:
        raise ValueError(f"check {name!r} must return columns {flag} and {score}")
    df[score] = np.clip(df[score].astype(float).fillna(1.0), 0.0, 1.0)
    df[flag] = df[flag].astype(bool)
    df["confidence"] = df["confidence"].astype(float)
    for col in ("image_id", "person", "field", "given", "suggested", "detail", "images"):
        df[col] = df[col].fillna("").astype(str)
    return df[[*COMMON_COLUMNS[:1], flag, score, *COMMON_COLUMNS[1:]]].reset_index(drop=True)


def empty_issues(name: str) -> pd.DataFrame:
    return issue_frame(name, {f"is_{name}_issue": [], f"{name}_score": []})
