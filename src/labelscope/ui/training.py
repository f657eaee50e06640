"""Cached loaders of training runs for the Training page (thin ``st.cache_data`` wrappers)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ..config import Settings
from ..train import registry


def _token(ws: Path) -> tuple:
    """Changes whenever a run is imported or refreshed (folder names and metrics mtimes)."""
    root = ws / "predictions"
    if not root.is_dir():
        return ()
    return tuple(sorted((d.name, (d / "metrics.json").stat().st_mtime_ns) for d in root.iterdir()
                        if (d / "metrics.json").is_file()))


@st.cache_data(show_spinner=False, max_entries=8)
def _runs(ws: str, token: tuple) -> pd.DataFrame:
    return registry.list_runs(ws)


@st.cache_data(show_spinner=False, max_entries=16)
def _metrics(ws: str, run: str, token: tuple) -> dict[str, Any]:
    return registry.load_metrics(ws, run)


@st.cache_data(show_spinner=False, max_entries=16)
def _confusion(ws: str, run: str, token: tuple) -> pd.DataFrame:
    return registry.load_confusion(ws, run)


def runs(s: Settings) -> pd.DataFrame:
    """Imported runs, newest first."""
    return _runs(str(s.workspace), _token(Path(s.workspace)))


def metrics(s: Settings, run: str) -> dict[str, Any]:
    return _metrics(str(s.workspace), run, _token(Path(s.workspace)))


def confusion(s: Settings, run: str) -> pd.DataFrame:
    return _confusion(str(s.workspace), run, _token(Path(s.workspace)))
