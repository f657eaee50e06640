"""Cached loaders and the WebGL scatter for the Embeddings page.

Every loader is keyed by the cache file's size and mtime, so an embedding computed by the CLI
or by the page's button shows up on the next rerun, and nothing is recomputed on a plain rerun.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ..config import Settings
from ..workspace import Workspace, fingerprint

CHART_KEY = "emb"
MAP_KEY = "emb.map"  # the images a box or lasso on the map selected: shown in the gallery, not ticked
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173",
           "#3182bd", "#e6550d")


def _token(p: Path) -> str:
    return ":".join(map(str, fingerprint(p)))


@st.cache_data(show_spinner=False, ttl=30)
def availability(ws: str) -> dict[str, tuple[bool, str]]:
    from ..embed import availability as _availability

    return _availability(Workspace(ws))


def computed(settings: Settings) -> list[str]:
    """Names of the embeddings already cached in the workspace."""
    from ..embed import embedding_files

    return list(embedding_files(Workspace(settings.workspace)))


# cache_resource: an embedding can be 100 MB; cache_data would unpickle a copy on every rerun.
# Callers treat it as read-only.
@st.cache_resource(show_spinner="Loading embeddings…", max_entries=4)
def _embedding(ws: str, names: tuple[str, ...], tokens: tuple[str, ...]) -> Any:
    from ..embed import combine, load_embeddings

    parts = [e for e in (load_embeddings(ws, n) for n in names) if e is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else combine(parts)


def embedding(settings: Settings, names: list[str]) -> Any:
    """The cached embedding ``names[0]``, or the combination of several (None when absent)."""
    from ..embed.base import embedding_path

    ws = Workspace(settings.workspace)
    tokens = tuple(_token(embedding_path(ws, n)) for n in names)
    return _embedding(str(ws.root), tuple(names), tokens)


@st.cache_data(show_spinner="Projecting…", max_entries=12)
def _projection(ws: str, digest: str, method: str, file_token: str, _emb: Any) -> pd.DataFrame:
    from ..embed import project

    return project(_emb, method, workspace=Workspace(ws))


def projection(settings: Settings, emb: Any, method: str, *, compute: bool) -> pd.DataFrame | None:
    """The 2-D map of ``emb`` from the workspace cache. PCA is computed when missing (seconds at
    most); t-SNE and UMAP only when ``compute`` (behind a button): None until then."""
    from ..embed.projection import projection_path

    ws = Workspace(settings.workspace)
    path = projection_path(ws, emb, method, 0, {})
    if not path.is_file() and not compute and method != "pca":
        return None
    return _projection(str(ws.root), emb.digest(), method, _token(path), emb)


@st.cache_data(show_spinner=False, max_entries=4)
def _suspects(ws: str, token: str) -> pd.Series | None:
    from ..embed.view import suspect_scores

    return suspect_scores(Workspace(ws))


def suspects(settings: Settings) -> pd.Series | None:
    ws = Workspace(settings.workspace)
    return _suspects(str(ws.root), _token(ws.suspects))


def quick_map(settings: Settings, manifest: Any) -> None:
    """Right after a scan, the embedding built from its colour histograms (about a second at
    1,400 images; cached), so the page draws a map before any model embedding exists."""
    from ..embed import compute_embeddings
    from ..embed.view import QUICK_MAP

    with st.spinner("A first map from the scan's colour histograms…"):
        compute_embeddings(manifest, settings.workspace, QUICK_MAP)


def follow_default(key: str, default: list[str]) -> None:
    """Set widget ``key`` to ``default`` unless the reviewer chose something else: a choice
    the page made (a first map from the scan) moves on to better feature sets when they appear."""
    auto = f"{key}.auto"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(auto):
        st.session_state[key] = list(default)
    st.session_state[auto] = list(default)


def store_selection() -> None:
    """``on_select`` callback: the chart's selected points become ``emb.map`` (shown, not ticked)."""
    sel = st.session_state.get(CHART_KEY, {}).get("selection", {})
    st.session_state[MAP_KEY] = list(dict.fromkeys(
        p["customdata"][0] for p in sel.get("points", []) if p.get("customdata")))


def scatter_figure(points: pd.DataFrame, *, colour_title: str, numeric: bool, order: list[str] | None = None,
                   height: int = 620) -> go.Figure:
    """WebGL scatter of ``scatter_frame`` output; ``customdata[0]`` of every point is its image id."""
    fig = go.Figure()
    hover = "%{customdata[0]}<br>%{customdata[1]}<extra>%{fullData.name}</extra>"

    def add(df: pd.DataFrame, name: str, marker: dict) -> None:
        fig.add_trace(go.Scattergl(x=df["x"], y=df["y"], mode="markers", name=name, marker=marker,
                                   customdata=df[["image_id", "label"]].to_numpy(), hovertemplate=hover))

    if numeric:
        has = points["colour"].notna()
        if (~has).any():
            add(points[~has], "no finding", dict(size=5, color="#c8c8c8", opacity=0.5))
        add(points[has], colour_title, dict(size=6, color=points.loc[has, "colour"], colorscale="RdYlGn",
                                            cmin=0.0, cmax=1.0, colorbar=dict(title=colour_title, len=0.6)))
    else:
        for k, value in enumerate(order or sorted(points["colour"].unique())):
            add(points[points["colour"] == value], str(value), dict(size=6, color=PALETTE[k % len(PALETTE)],
                                                                      opacity=0.8))
    fig.update_layout(height=height, dragmode="select", margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(title=colour_title, itemsizing="constant"), xaxis_title=None, yaxis_title=None)
    return fig
