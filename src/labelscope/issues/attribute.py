"""Out-of-sample probabilities of one label attribute per image, from the best source at hand.

An *attribute* is what a check judges: ``label`` for ImageFolder / CSV datasets; for the mask
layout the 18 classes decompose into ``mask`` (belongs to the image), ``gender`` and
``age_group`` (belong to the person). Sources, best first:

1. the training module's out-of-fold ``pred_probs`` (18 classes are summed into the attribute);
2. k-fold logistic regression on the cached pretrained embeddings (folds grouped by person),
   on the embedding set (the preferred combination, each embedding alone, all together) whose
   classifier has the lowest out-of-fold log-loss on the given labels: no ground truth needed.

Either is averaged with the label vote of the 20 nearest neighbours in embedding space (the
person's own photos left out), which measured very strong on real photos.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import BEST_EMBEDDERS
from ..dataset import Manifest
from .base import IssueInputs
from .probs import choose_c, knn_vote, oof_logistic, prepare_features

K_NEIGHBOURS = 20
LOSS_MARGIN = 0.005  # a later candidate must beat the preferred set's log-loss by 0.5% to replace it
# Embeddings used per attribute, those of them that are given (measured on real photos with
# bench/suspects.py); an attribute not listed, or none of its own given: every pretrained one.
_FACE_FIRST = BEST_EMBEDDERS[::-1]
PREFERRED = {"label": BEST_EMBEDDERS, "mask": BEST_EMBEDDERS, "gender": _FACE_FIRST, "age_group": _FACE_FIRST,
             "outlier": BEST_EMBEDDERS[:1]}
PRETRAINED = ("nsfw", "agegender", "sface", "effnet", "face", "colour", "pixels")


@dataclass
class AttributeProbs:
    """Per-image probabilities of one attribute.

    ``image_ids`` (n,), ``classes`` (C values), ``given`` (n,) int index of the value on file,
    ``probs`` (n, C) the averaged estimate, ``parts`` the separate estimates (``model``,
    ``knn``), ``source`` a short description of where they came from.
    """

    attribute: str
    image_ids: np.ndarray
    classes: tuple[str, ...]
    given: np.ndarray
    probs: np.ndarray
    parts: dict[str, np.ndarray]
    source: str


def attribute_classes(manifest: Manifest, attribute: str) -> tuple[str, ...]:
    factor = manifest.schema.factor(attribute)
    if factor is not None:
        return tuple(factor.values)
    if attribute != "label":
        raise ValueError(f"unknown attribute {attribute!r} for the {manifest.layout} layout")
    return tuple(manifest.classes)


def attribute_probs(inputs: IssueInputs, attribute: str) -> AttributeProbs | None:
    """Estimate (and cache in ``inputs.cache``) out-of-sample probabilities of ``attribute``.

    Returns None when neither predictions nor embeddings cover any image.
    """
    key = f"probs:{attribute}"
    if key not in inputs.cache:
        inputs.cache[key] = _estimate(inputs, attribute)
    return inputs.cache[key]


def _estimate(inputs: IssueInputs, attribute: str) -> AttributeProbs | None:
    m = inputs.manifest
    classes = attribute_classes(m, attribute)
    df = m.df[["image_id", "group_id", "label" if attribute == "label" else attribute]].copy()
    df.columns = ["image_id", "group_id", "value"]
    df = df[df["value"].astype(str).isin(classes)]
    model, model_ids, source = None, None, ""
    if inputs.pred_probs is not None:
        model_ids, model = prediction_matrix(inputs.pred_probs, m, attribute)
        source = "training out-of-fold predictions"
    candidates = candidate_sets(inputs.embeddings, attribute)
    if model_ids is None and not candidates:
        return None
    ids = df["image_id"].to_numpy()
    for have in [model_ids] + [e.image_ids for c in candidates for e in c]:
        if have is not None:
            ids = np.intersect1d(ids, np.asarray(have, dtype=object))
    if len(ids) < 3:
        return None
    sub = df.set_index("image_id").loc[ids]
    given = np.array([classes.index(v) for v in sub["value"].astype(str)], dtype=np.int64)
    groups = sub["group_id"].astype(str).to_numpy() if m.has_groups else None
    parts: dict[str, np.ndarray] = {}
    if model is not None:
        pos = {i: k for k, i in enumerate(model_ids)}
        parts["model"] = model[[pos[i] for i in ids]]
    if candidates:
        n_classes = len(classes)
        if model is None:
            inputs.tell(f"{attribute}: out-of-fold classifier", 0, len(candidates))
            X, names, c, losses = best_candidate(candidates, ids, given, n_classes=n_classes, groups=groups,
                                                 progress=lambda k: inputs.tell(f"{attribute}: out-of-fold classifier",
                                                                                k, len(candidates)))
            parts["model"], _ = oof_logistic(X, given, n_classes=n_classes, groups=groups, C=c, prepared=True)
            source = f"out-of-fold logistic regression (C={c:g}) on {names}"
            if len(losses) > 1:
                source += " (lowest out-of-fold log-loss of " + ", ".join(f"{k} {v:.3f}" for k, v in losses.items()) + ")"
        else:
            X, names = combined_rows(candidates[0], ids), "+".join(e.name for e in candidates[0])
        inputs.tell(f"{attribute}: neighbour vote", 0, 1)
        parts["knn"] = knn_vote(X, given, n_classes=n_classes, k=K_NEIGHBOURS, groups=groups)
        source += f"; {K_NEIGHBOURS}-neighbour vote on {names}"
        inputs.tell(f"{attribute}: done", 1, 1)
    probs = np.mean(list(parts.values()), axis=0)
    return AttributeProbs(attribute, np.asarray(ids), classes, given, probs, parts, source)


def best_candidate(candidates: list[list], ids: np.ndarray, given: np.ndarray, *, n_classes: int,
                   groups: np.ndarray | None, progress=None) -> tuple[np.ndarray, str, float, dict[str, float]]:
    """The embedding set whose classifier has the lowest out-of-fold log-loss on the given labels.

    Returns (prepared X of ``ids``, its name, its ``C``, the log-loss of every candidate).
    """
    best = None
    losses: dict[str, float] = {}
    for k, cand in enumerate(candidates):
        X = prepare_features(combined_rows(cand, ids))
        c, loss = choose_c(X, given, n_classes=n_classes, groups=groups)
        name = "+".join(e.name for e in cand)
        losses[name] = loss
        if best is None or loss < best[3] - LOSS_MARGIN * abs(best[3]):  # ties go to the earlier (preferred)
            best = (X, name, c, loss)
        if progress is not None:
            progress(k + 1)
    return best[0], best[1], best[2], losses


def candidate_sets(embeddings: list, attribute: str) -> list[list]:
    """Embedding sets to try for ``attribute``, preferred combination first.

    The preferred embeddings (``PREFERRED``) that are given, combined; then every given
    embedding alone; then all of them combined when that is a different set.
    """
    if not embeddings:
        return []
    chosen = choose_embeddings(embeddings, attribute)
    sets = [chosen]
    for e in embeddings:
        if [e] not in sets:
            sets.append([e])
    if len(embeddings) > len(chosen):
        sets.append(list(embeddings))
    return sets


def combined_rows(embeddings: list, ids: np.ndarray) -> np.ndarray:
    """Rows ``ids`` of the embeddings combined with ``labelscope.embed.combine`` (each part
    z-scored and divided by sqrt(its width), so every part weighs the same)."""
    from ..embed import combine

    wanted = [str(i) for i in ids]
    combined = combine([e.subset(wanted) for e in embeddings])
    pos = {i: k for k, i in enumerate(combined.image_ids)}
    return combined.vectors[[pos[i] for i in wanted]]


def choose_embeddings(embeddings: list, attribute: str) -> list:
    """The preferred embeddings for ``attribute`` among those given (see ``PREFERRED``)."""
    if not embeddings:
        return []
    by_name = {e.name: e for e in embeddings}
    pref = [by_name[n] for n in PREFERRED.get(attribute, ()) if n in by_name]
    if pref:
        return pref
    pretrained = [by_name[n] for n in PRETRAINED if n in by_name]
    return pretrained or list(embeddings)


def prediction_matrix(pred: pd.DataFrame, manifest: Manifest, attribute: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(image_ids, probs) of ``attribute`` from a predictions table.

    Accepts the training module's table (a ``pred_probs`` list column in the class order of
    ``pred.attrs["classes"]``, default the manifest's classes) or one column per class named
    as the class, ``p_<class>`` or ``prob_<class>``. For the mask layout the 18 classes are
    summed into ``mask``, ``gender`` or ``age_group``.
    """
    classes = list(manifest.classes)
    if "image_id" not in pred.columns:
        raise ValueError("predictions have no image_id column")
    if "pred_probs" in pred.columns:
        order = list(pred.attrs.get("classes") or classes)
        missing = [c for c in classes if c not in order]
        if missing:
            raise ValueError(f"predictions were made for other classes (missing {', '.join(missing[:5])})")
        P = np.stack(pred["pred_probs"].to_numpy()).astype(np.float64)[:, [order.index(c) for c in classes]]
    else:
        cols = []
        for c in classes:
            name = next((n for n in (c, f"p_{c}", f"prob_{c}") if n in pred.columns), None)
            if name is None:
                raise ValueError(f"predictions have no probability column for class {c!r}; "
                                 f"columns: {list(pred.columns)[:12]}")
            cols.append(name)
        P = pred[cols].to_numpy(dtype=np.float64)
    P = np.clip(P, 0, None)
    P /= np.maximum(P.sum(axis=1, keepdims=True), 1e-12)
    ids = pred["image_id"].astype(str).to_numpy()
    factor = manifest.schema.factor(attribute)
    if factor is not None:
        which = manifest.schema.decompose(np.arange(len(classes)))[attribute]
        P = np.stack([P[:, which == j].sum(axis=1) for j in range(len(factor.values))], axis=1)
    return ids, P
