"""Thin ``st.cache_data`` wrappers around library loaders; the library owns the real caches.

Each loader is keyed by the file's modification time so a finished scan or a new export shows
up on the next rerun without decoding anything on a page rerun.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ..config import Settings
from ..dataset import Manifest, check_dataset
from ..workspace import Workspace


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return 0


def _dataset_token(s: Settings) -> float:
    src = s.dataset
    key = src / "train.csv" if (src / "train.csv").exists() else src
    return _mtime(key)


@st.cache_data(show_spinner="Reading the dataset…", max_entries=4)
def _manifest(dataset: str, layout: str, token: float) -> Manifest:
    return check_dataset(dataset, layout)


def manifest(s: Settings) -> Manifest:
    """The dataset's Manifest (validation problems included; never raises)."""
    return _manifest(str(s.dataset), s.layout, _dataset_token(s))


@st.cache_data(show_spinner=False, max_entries=4)
def _features(ws: str, token: float) -> pd.DataFrame:
    from ..scan import load_features

    return load_features(ws)


def features(s: Settings) -> pd.DataFrame | None:
    """Scan features, or None when the workspace has no scan yet."""
    ws = Workspace(s.workspace)
    if not ws.has_scan():
        return None
    return _features(str(ws.root), _mtime(ws.features))


def clear() -> None:
    st.cache_data.clear()


# ---- review (decisions) ------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _review_store(ws: str, db_url: str):
    from ..review import open_review_store

    return open_review_store(Workspace(ws), db_url=db_url or None)


def review_store(s: Settings):
    """The dataset's ReviewStore (one per workspace and database URL, shared by sessions)."""
    return _review_store(str(s.workspace), s.db_url)


@st.cache_data(show_spinner=False, max_entries=8)
def _current_labels(dataset: str, layout: str, token: float, ws: str, db_url: str, version: int) -> Manifest:
    return _review_store(ws, db_url).current_labels(_manifest(dataset, layout, token))


def current_labels(s: Settings) -> Manifest:
    """Today's labels (manifest + decisions); recomputed only when a new event exists."""
    version = review_store(s).version()
    return _current_labels(str(s.dataset), s.layout, _dataset_token(s), str(s.workspace), s.db_url, version)


@st.cache_data(show_spinner=False, max_entries=64)
def _thumbs(ws: str, token: float, image_ids: tuple[str, ...]) -> dict[str, bytes]:
    try:
        from ..scan import load_thumbs
    except ImportError:
        return {}
    return load_thumbs(ws, list(image_ids))


def thumbs(s: Settings, image_ids: list[str]) -> dict[str, bytes]:
    """JPEG thumbnails by image id from the scan ({} when there is no scan yet)."""
    ws = Workspace(s.workspace)
    if not ws.thumbs.exists() or not image_ids:
        return {}
    return _thumbs(str(ws.root), _mtime(ws.thumbs), tuple(image_ids))
