"""Charts of the Overview, Colours, Faces and Quality pages, built once per input and cached as dicts.

Plotly express takes a second to build a faceted figure, and a figure holding 20,000 points
takes another to validate and serialise on every rerun, so each chart here is cached as a
plain dict (``st.plotly_chart`` accepts one) and large point sets are summarised first:
the face-centre scatter draws a stratified sample, the box-size chart precomputed quartiles.
"""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from ..config import Settings
from . import cache

CHANNEL_COLOURS = {"r": "#d62728", "g": "#2ca02c", "b": "#1f77b4", "l": "#555555"}
MAX_POINTS = 4000
"""Face centres drawn at most (a stratified sample; statistics use every face)."""


@st.cache_data(show_spinner=False, max_entries=32)
def histogram_figure(hists: pd.DataFrame, arrangement: str, mode: str) -> dict:
    """Group histograms overlaid (one line per group, a panel per channel) or as small multiples
    (a panel per group, one line per channel). Built with graph objects: plotly express took
    about a second for 18 groups x 3 channels."""
    from plotly.subplots import make_subplots

    groups = list(dict.fromkeys(hists["group"]))
    channels = list(dict.fromkeys(hists["channel"]))
    palette = px.colors.qualitative.Plotly + px.colors.qualitative.D3
    by_key = {k: g for k, g in hists.groupby(["group", "channel"], sort=False)}
    if arrangement == "overlay":
        fig = make_subplots(rows=1, cols=len(channels), shared_yaxes=True, horizontal_spacing=0.03,
                            subplot_titles=[f"channel {c}" for c in channels])
        for gi, group in enumerate(groups):
            for ci, ch in enumerate(channels):
                d = by_key[(group, ch)]
                fig.add_trace(go.Scatter(x=d["level"].to_numpy(), y=d["share"].to_numpy(), name=str(group),
                                         legendgroup=str(group), showlegend=ci == 0, line_shape="hvh",
                                         line=dict(color=palette[gi % len(palette)], width=1.5),
                                         hovertemplate=f"{group} · {d['images'].iloc[0]:,} images<br>"
                                                       "level %{x}: %{y:.3f}<extra></extra>"),
                              row=1, col=ci + 1)
        height = 360
    else:
        cols = min(6, len(groups))
        rows = -(-len(groups) // cols)
        fig = make_subplots(rows=rows, cols=cols, shared_xaxes=True, shared_yaxes=True, horizontal_spacing=0.02,
                            vertical_spacing=0.25 / rows, subplot_titles=[str(g) for g in groups])
        for gi, group in enumerate(groups):
            for ci, ch in enumerate(channels):
                d = by_key[(group, ch)]
                fig.add_trace(go.Scatter(x=d["level"].to_numpy(), y=d["share"].to_numpy(), name=ch, legendgroup=ch,
                                         showlegend=gi == 0, line_shape="hvh",
                                         line=dict(color=CHANNEL_COLOURS.get(ch, "#555"), width=1.2),
                                         hovertemplate=f"{group} · {ch}<br>level %{{x}}: %{{y:.3f}}<extra></extra>"),
                              row=gi // cols + 1, col=gi % cols + 1)
        height = 200 * rows + 60
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10))
    fig.update_xaxes(range=[0, 256])
    return fig.to_dict()


@st.cache_data(show_spinner=False, max_entries=32)
def distance_figure(dist: pd.DataFrame) -> dict:
    names = [str(c) for c in dist.columns]
    z = dist.to_numpy()
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, colorscale="Blues", zmin=0, text=z, texttemplate="%{text:.2f}",
                               hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=max(300, 28 * len(dist) + 120), margin=dict(l=10, r=10, t=10, b=10))
    return fig.to_dict()


@st.cache_data(show_spinner=False, max_entries=32)
def balance_figure(balance: pd.DataFrame) -> dict:
    """Images per value of one attribute (``class_balance``), as bars."""
    fig = px.bar(balance, x="value", y="images", text="images", hover_data={"share": ":.1%"})
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=None)
    return fig.to_dict()


def image_size_figure(readable: pd.DataFrame) -> dict:
    """Width against height of every readable image (WebGL scatter)."""
    fig = px.scatter(readable, x="width", y="height", opacity=0.5, title="Image size (px)",
                     render_mode="webgl", hover_data=["image_id"])
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig.to_dict()


def file_size_figure(readable: pd.DataFrame) -> dict:
    """Histogram of file sizes in KiB (``readable_split``'s ``kb`` column)."""
    fig = px.histogram(readable, x="kb", nbins=40, title="File size (KiB)")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=40, b=10))
    return fig.to_dict()


@st.cache_data(show_spinner=False, max_entries=32)
def counts_figure(counts: pd.DataFrame) -> dict:
    fig = px.bar(counts, x="flag", y="images", text="images", hover_data={"share": ":.1%"})
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=None)
    return fig.to_dict()


def sample_per_group(rel: pd.DataFrame, n: int, *, seed: int = 0) -> pd.DataFrame:
    """At most ``n`` rows, each group keeping its share (at least one row per group)."""
    if len(rel) <= n:
        return rel
    shown = rel.groupby("group").sample(frac=n / len(rel), random_state=seed)
    firsts = rel.drop_duplicates("group")
    return pd.concat([shown, firsts[~firsts["group"].isin(shown["group"])]])


@st.cache_data(show_spinner=False, max_entries=16)
def _centre_figure(key: tuple, box: tuple, _settings: Settings, by: str) -> tuple[dict, int, int]:
    rel = cache.relative_faces(_settings, by=by)
    shown = sample_per_group(rel, MAX_POINTS)
    fig = px.scatter(shown, x="cx", y="cy", color="group", opacity=0.5, render_mode="webgl",
                     hover_data=["image_id", "w", "h", "score"])
    fig.add_shape(type="rect", x0=box[0], y0=box[1], x1=box[2], y1=box[3], line=dict(color="black", dash="dash"))
    fig.update_xaxes(range=[0, 1], title="centre x (share of width)")
    fig.update_yaxes(range=[1, 0], title="centre y (share of height)", scaleanchor="x")
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10))
    return fig.to_dict(), len(shown), len(rel)


def centre_figure(settings: Settings, *, by: str, box: tuple) -> tuple[dict, int, int]:
    """Face centres per group with the crop ``box`` drawn: ``(figure, points shown, faces)``."""
    return _centre_figure(cache.faces_key(settings, by), tuple(round(v, 6) for v in box), settings, by)


@st.cache_data(show_spinner=False, max_entries=16)
def _size_figure(key: tuple, _settings: Settings, by: str) -> dict:
    rel = cache.relative_faces(_settings, by=by)
    fig = go.Figure()
    for side, name in (("w", "width"), ("h", "height")):
        q = rel.groupby("group")[side].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        fig.add_trace(go.Box(x=q.index.tolist(), q1=q[0.25], median=q[0.5], q3=q[0.75], lowerfence=q[0.05],
                             upperfence=q[0.95], name=f"box {name}", boxpoints=False))
    fig.update_layout(boxmode="group", height=420, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis_title="share of the image (whiskers: 5th-95th percentile)")
    return fig.to_dict()


def size_figure(settings: Settings, *, by: str) -> dict:
    """Box width and height per group, quartiles computed here (a few numbers sent, not every face)."""
    return _size_figure(cache.faces_key(settings, by), settings, by)


__all__ = ["CHANNEL_COLOURS", "balance_figure", "centre_figure", "file_size_figure", "image_size_figure", "counts_figure", "distance_figure", "histogram_figure",
           "sample_per_group", "size_figure"]
