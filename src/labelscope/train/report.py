"""Tables and plotly figures describing a finished run, for the Training page (no torch, no Streamlit)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CURVE_METRICS = {"val_macro_f1": "val macro-F1", "val_accuracy": "val accuracy", "train_loss": "train loss",
                 "val_loss": "val loss"}


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """The figures a run is judged by: out-of-fold scores, size, speed, weights used."""
    oof, speed = metrics.get("oof", {}), metrics.get("speed", {})
    out = {"macro_f1": oof.get("macro_f1"), "accuracy": oof.get("accuracy"),
           "predicted": metrics.get("predicted"), "excluded": metrics.get("excluded"),
           "skipped": len(metrics.get("skipped", [])), "folds": metrics.get("folds"), "epochs": metrics.get("epochs"),
           "device": speed.get("device"), "train_images_per_s": speed.get("train_images_per_s"),
           "eval_images_per_s": speed.get("eval_images_per_s"), "seconds": speed.get("seconds"),
           "weights": metrics.get("weights", "")}
    for k in ("f1_mask", "f1_gender", "f1_age_group"):
        if k in oof:
            out[k] = oof[k]
    return out


def history_long(metrics: dict[str, Any]) -> pd.DataFrame:
    """Per-epoch history in long form: columns fold, epoch, metric, value (for line charts)."""
    hist = pd.DataFrame(metrics.get("history", []))
    cols = [c for c in CURVE_METRICS if c in hist.columns]
    if hist.empty or not cols:
        return pd.DataFrame(columns=["fold", "epoch", "metric", "value"])
    long = hist.melt(id_vars=["fold", "epoch"], value_vars=cols, var_name="metric", value_name="value")
    long["metric"] = long["metric"].map(CURVE_METRICS)
    long["fold"] = "fold " + long["fold"].astype(str)
    return long


def normalise_rows(cm: pd.DataFrame) -> pd.DataFrame:
    """Each row divided by its total (share of a given class predicted as each class); 0 for empty rows."""
    totals = cm.sum(axis=1).to_numpy(float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        vals = np.where(totals > 0, cm.to_numpy(float) / totals, 0.0)
    return pd.DataFrame(vals, index=cm.index, columns=cm.columns)


def per_class_f1(metrics: dict[str, Any]) -> pd.DataFrame:
    """Columns class, f1 in class order."""
    d = metrics.get("per_class_f1", {})
    return pd.DataFrame({"class": list(d), "f1": [float(v) for v in d.values()]})


def curve_figure(metrics: dict[str, Any]):
    """Line chart of the per-epoch metrics, one line per fold, one panel per metric."""
    import plotly.express as px

    long = history_long(metrics)
    fig = px.line(long, x="epoch", y="value", color="fold", facet_col="metric", facet_col_wrap=2, markers=True,
                  height=520)
    fig.update_yaxes(matches=None, showticklabels=True)
    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    fig.update_xaxes(dtick=1)
    return fig


def confusion_figure(cm: pd.DataFrame, *, normalise: bool = True):
    """Heatmap of the confusion matrix (rows = given class, columns = predicted class)."""
    import plotly.express as px

    data = normalise_rows(cm) if normalise else cm
    fig = px.imshow(data, text_auto=".2f" if normalise else True, aspect="auto", color_continuous_scale="Blues",
                    labels={"x": "predicted", "y": "given", "color": "share" if normalise else "images"},
                    height=max(420, 28 * len(cm) + 160))
    fig.update_xaxes(side="top", tickangle=-45)
    return fig
