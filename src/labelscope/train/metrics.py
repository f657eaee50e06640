"""Classification metrics in plain NumPy: accuracy, macro-F1 (the competition's score),
per-factor F1 where the classes decompose (mask, gender, age group), and the confusion matrix."""
from __future__ import annotations

import numpy as np

from ..dataset.mask import SCHEMA as COMPETITION
from ..dataset.schema import LayoutSchema


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts, rows = true class, columns = predicted class."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def f1_per_class(cm: np.ndarray) -> np.ndarray:
    """F1 of every class from a confusion matrix (0 where a class has no support and no prediction)."""
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, 2 * tp / denom, 0.0)


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None) -> float:
    """Mean F1 over the classes present in ``y_true`` or ``y_pred`` (sklearn's ``average="macro"``)."""
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    if len(y_true) == 0:
        return float("nan")
    k = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    cm = confusion(y_true, y_pred, k)
    present = (cm.sum(0) + cm.sum(1)) > 0
    return float(f1_per_class(cm)[present].mean())


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float((y_true == y_pred).mean()) if len(y_true) else float("nan")


def attribute_f1(y_true: np.ndarray, y_pred: np.ndarray, schema: LayoutSchema = COMPETITION) -> dict[str, float]:
    """Macro-F1 of each factor of ``schema`` (default the competition's mask, gender, age group)."""
    t = schema.decompose(np.asarray(y_true, int))
    p = schema.decompose(np.asarray(y_pred, int))
    return {name: macro_f1(t[name], p[name]) for name in schema.factor_names}


def factored(schema: LayoutSchema | None, num_classes: int) -> LayoutSchema | None:
    """``schema`` when its classes decompose and there are exactly its classes, else None."""
    names = schema.class_names if schema is not None else None
    return schema if names is not None and len(names) == num_classes else None


def summarize(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, *,
              schema: LayoutSchema | None = None) -> dict[str, float]:
    """accuracy, macro_f1 and, where ``schema``'s classes decompose, ``f1_<factor>`` of each."""
    out = {"accuracy": accuracy(y_true, y_pred), "macro_f1": macro_f1(y_true, y_pred, num_classes)}
    schema = factored(schema, num_classes)
    if schema is not None:
        out.update({f"f1_{k}": v for k, v in attribute_f1(y_true, y_pred, schema).items()})
    return out
