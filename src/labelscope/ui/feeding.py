"""Figures and display tables for the Feeding page (plotly; no computation beyond layout)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..feeding import FeedingReport


def rates_figure(report: FeedingReport) -> go.Figure:
    """Loader images/s against batch size, one line per worker count; the model's rate as a line.

    The y axis turns logarithmic when the rates span more than 20x.
    """
    fig = go.Figure()
    lo = report.loader.sort_values(["workers", "batch_size"])
    for w, part in lo.groupby("workers", sort=True):
        fig.add_trace(go.Scatter(x=part["batch_size"], y=part["images_per_s"], mode="lines+markers",
                                 name=f"loader, {w} worker{'s' if w != 1 else ''}",
                                 customdata=[[int(w)]] * len(part),
                                 hovertemplate="batch %{x}<br>%{y:.1f} images/s<extra>%{fullData.name}</extra>"))
    mo = report.model.sort_values("batch_size")
    fig.add_trace(go.Scatter(x=mo["batch_size"], y=mo["images_per_s"], mode="lines+markers", name="model",
                             line=dict(color="black", dash="dash", width=3), marker=dict(symbol="diamond"),
                             hovertemplate="batch %{x}<br>model %{y:.1f} images/s<extra></extra>"))
    rates = pd.concat([lo["images_per_s"], mo["images_per_s"]]).astype(float)
    rates = rates[rates > 0]
    log = len(rates) > 0 and rates.max() / rates.min() > 20
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="batch size",
                      yaxis_title="images / s", legend=dict(orientation="h", y=-0.2),
                      yaxis_type="log" if log else "linear")
    fig.update_xaxes(type="log", tickvals=sorted(lo["batch_size"].unique()))
    return fig


def verdict_table(report: FeedingReport) -> pd.DataFrame:
    """The verdicts in words for display: setting, both rates, who limits and by how much."""
    v = report.verdicts
    return pd.DataFrame({
        "batch size": v["batch_size"], "workers": v["workers"],
        "loader img/s": v["loader_ips"].round(1), "model img/s": v["model_ips"].round(1),
        "verdict": [f"{b}-bound, {f:.1f}x" for b, f in zip(v["bound"], v["factor"])],
        "model waits": [f"{i:.0%}" for i in v["model_idle"]],
        "memory MiB": (v.get("loader_mem_mb", 0) + v.get("model_mem_mb", 0)).round(0),
    })
