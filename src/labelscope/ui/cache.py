"""Thin ``st.cache_data`` wrappers around library loaders; the library owns the real caches.

Each loader is keyed by its file's ``workspace.fingerprint`` (size, mtime) so a finished scan or
a new export shows up on the next rerun without decoding anything on a page rerun; the manifest
by ``workspace.tree_fingerprint`` of the dataset, which sees an image added inside any folder.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ..config import Settings
from ..dataset import Manifest, check_dataset
from ..workspace import Workspace, fingerprint, tree_fingerprint


TOKEN_TTL_S = 1.0  # a page rerun calls manifest() several times: the folder walk (~80 ms at 19,000 images) once
_TOKENS: dict[str, tuple[float, str]] = {}


def _dataset_token(s: Settings) -> str:
    """``tree_fingerprint`` of the dataset, recomputed at most once per ``TOKEN_TTL_S``."""
    import time

    key, now = str(s.dataset), time.monotonic()
    hit = _TOKENS.get(key)
    if hit is None or now - hit[0] > TOKEN_TTL_S:
        hit = _TOKENS[key] = (now, tree_fingerprint(s.dataset))
    return hit[1]


@st.cache_data(show_spinner="Reading the dataset…", max_entries=4)
def _manifest(dataset: str, layout: str, token: float) -> Manifest:
    return check_dataset(dataset, layout)


def manifest(s: Settings) -> Manifest:
    """The dataset's Manifest (validation problems included; never raises)."""
    return _manifest(str(s.dataset), s.layout, _dataset_token(s))


def usable_manifest(s: Settings) -> Manifest:
    """The Manifest, or stop the page with a pointer to the Overview when nothing is usable."""
    m = manifest(s)
    if m.errors:
        st.error("This dataset cannot be used as it is; see the Overview page.")
        st.stop()
    return m


@st.cache_data(show_spinner=False, max_entries=4)
def _features(ws: str, token: float) -> pd.DataFrame:
    from ..scan import load_features

    return load_features(ws)


def features(s: Settings) -> pd.DataFrame | None:
    """Scan features, or None when the workspace has no scan yet."""
    ws = Workspace(s.workspace)
    if not ws.has_scan():
        return None
    return _features(str(ws.root), fingerprint(ws.features))


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


def store_problem(s: Settings) -> str | None:
    """Why the review database cannot be used (damaged, a directory, unwritable), or None.
    A workspace not created yet has nothing to be wrong with (and is not created here)."""
    from ..review import ReviewError

    if not s.db_url and not Workspace(s.workspace).root.exists():
        return None
    try:
        review_store(s).version()
    except ReviewError as e:
        return str(e)
    return None


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
    return _thumbs(str(ws.root), fingerprint(ws.thumbs), tuple(image_ids))


# ---- colours, faces, quality (EDA pages) ---------------------------------------------------
def _labels_args(s: Settings) -> tuple:
    return (str(s.dataset), s.layout, _dataset_token(s), str(s.workspace), s.db_url, review_store(s).version())


def _digest_token(s: Settings) -> float:
    from ..eda.colours import digest_path

    return fingerprint(digest_path(s.workspace))


def _colour_digest(ws: str):
    """The digest (NumPy arrays, read in milliseconds); not in st.cache_data, which would
    pickle 60 MB per hit at 20,000 images: only what is derived from it is cached."""
    from ..eda.colours import load_digest

    return load_digest(ws)


@st.cache_data(show_spinner="Aggregating colour histograms…", max_entries=32)
def _colour_view(ws: str, ftoken: float, dtoken: float, labels_args: tuple, by: str, mode: str, weight: str) -> dict:
    from ..eda import colours

    feats, labels = _features(ws, ftoken), _current_labels(*labels_args).df
    digest = _colour_digest(ws) if mode == "luma" else None
    hists = colours.group_histograms(feats, labels, by=by, mode=mode, digest=digest, weight=weight)
    dist = colours.intersection_distances(hists)
    return {"hists": hists, "distances": dist, "nearest": colours.nearest_groups(dist),
            "outliers": colours.colour_outliers(feats, labels, by=by, mode=mode, digest=digest)}


def colour_view(s: Settings, *, by: str, mode: str = "rgb", weight: str = "image") -> dict | None:
    """Group histograms, their distance table and per-image outliers (None without a scan or,
    for luminance, without the colour digest)."""
    ws = Workspace(s.workspace)
    if not ws.has_scan() or (mode == "luma" and not _digest_token(s)):
        return None
    return _colour_view(str(ws.root), fingerprint(ws.features), _digest_token(s) if mode == "luma" else 0,
                        _labels_args(s), by, mode, weight)


@st.cache_data(show_spinner="Averaging thumbnails…", max_entries=16)
def _mean_images(ws: str, dtoken: float, labels_args: tuple, by: str) -> dict:
    from ..eda.colours import mean_images

    digest = _colour_digest(ws)
    return None if digest is None else mean_images(digest, _current_labels(*labels_args).df, by=by)


def mean_images(s: Settings, *, by: str) -> dict | None:
    """``{group: (mean image, images)}`` from the colour digest (None until it is computed)."""
    token = _digest_token(s)
    return _mean_images(str(s.workspace), token, _labels_args(s), by) if token else None


@st.cache_data(show_spinner=False, max_entries=4)
def _faces(ws: str, token: float) -> pd.DataFrame:
    from ..faces import load_faces

    return load_faces(ws).drop(columns=["landmarks"], errors="ignore")  # pages never draw them; cheaper hits


def faces(s: Settings) -> pd.DataFrame | None:
    """The cached best face box per image, or None before face detection."""
    ws = Workspace(s.workspace)
    return _faces(str(ws.root), fingerprint(ws.faces)) if ws.faces.exists() else None


@st.cache_data(show_spinner=False, max_entries=16)
def _quality_flags(ws: str, ftoken: float, thresholds: tuple) -> pd.DataFrame:
    from ..eda import QualityThresholds, quality_flags

    return quality_flags(_features(ws, ftoken), thresholds=QualityThresholds(*thresholds))


@st.cache_data(show_spinner=False, max_entries=4)
def _unreadable(ws: str, ftoken: float) -> pd.DataFrame:
    from ..eda import unreadable

    return unreadable(_features(ws, ftoken))


def unreadable(s: Settings) -> pd.DataFrame | None:
    """``image_id`` and ``error`` of the files the scan could not decode (None without a scan).

    Pages that need only this, or only derived tables, avoid ``features()``: every hit of a
    cached 20,000-row features table is a full unpickle (about 0.4 s).
    """
    ws = Workspace(s.workspace)
    return _unreadable(str(ws.root), fingerprint(ws.features)) if ws.has_scan() else None


def has_scan(s: Settings) -> bool:
    return Workspace(s.workspace).has_scan()


def quality_flags(s: Settings, thresholds) -> pd.DataFrame | None:
    """Quality flags for ``thresholds`` (a QualityThresholds); None without a scan."""
    from dataclasses import astuple

    ws = Workspace(s.workspace)
    return _quality_flags(str(ws.root), fingerprint(ws.features), astuple(thresholds)) if ws.has_scan() else None


@st.cache_data(show_spinner="Looking for duplicates…", max_entries=16)
def _duplicates(ws: str, ftoken: float, labels_args: tuple, label: str, max_distance: int, skip_same_group: bool):
    from ..eda import find_duplicates

    return find_duplicates(_features(ws, ftoken), _current_labels(*labels_args).df, label=label,
                           max_distance=max_distance, skip_same_group=skip_same_group)


def duplicates(s: Settings, *, label: str = "label", max_distance: int = 4, skip_same_group: bool = False):
    """Exact and near duplicate groups under today's labels; None without a scan."""
    ws = Workspace(s.workspace)
    if not ws.has_scan():
        return None
    return _duplicates(str(ws.root), fingerprint(ws.features), _labels_args(s), label, int(max_distance),
                       bool(skip_same_group))


def _faces_args(s: Settings) -> tuple[str, float]:
    ws = Workspace(s.workspace)
    return str(ws.root), fingerprint(ws.faces)


@st.cache_data(show_spinner=False, max_entries=8)
def _relative_faces(faces_args: tuple, labels_args: tuple, by: str) -> pd.DataFrame:
    from ..faces import relative_boxes

    return relative_boxes(_faces(*faces_args), _current_labels(*labels_args).df, by=by)


def relative_faces(s: Settings, *, by: str) -> pd.DataFrame:
    """Best face boxes as shares of the image, with centre, size and ``group`` (= ``by``)."""
    return _relative_faces(_faces_args(s), _labels_args(s), by)


@st.cache_data(show_spinner=False, max_entries=32)
def _crop_stats(faces_args: tuple, labels_args: tuple, by: str, coverage: float):
    from ..faces import crop_box_stats

    return crop_box_stats(_faces(*faces_args), _current_labels(*labels_args).df, by=by, coverage=coverage)


def crop_stats(s: Settings, *, by: str, coverage: float):
    """``(box stats per group, the overall crop, crops per group)`` for ``coverage`` in (0, 1]."""
    return _crop_stats(_faces_args(s), _labels_args(s), by, float(coverage))


def faces_key(s: Settings, by: str) -> tuple:
    """A hashable key of everything the face views of ``by`` depend on (for cached charts)."""
    return (*_faces_args(s), *_labels_args(s), by)
