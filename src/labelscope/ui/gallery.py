"""A paged thumbnail grid with label captions, a multi-select and a View button (full resolution).

Each gallery owns its selection: ``st.session_state[f"{key}.selection"]`` (a list of image
ids) for the gallery drawn with ``key``, so ticking an image on one page never arms an action
on another. Nothing is ticked until the reviewer ticks it or presses "Select page" / "Select
all"; the page hands ``selection(key)`` to ``labelscope.ui.actions.selection_actions``. Thumbnails come from the scan
(``labelscope.scan.load_thumbs``); without a scan each cell shows a placeholder and the grid says
to run one. Call ``gallery`` inside an ``st.fragment`` so a click reruns only that part.
"""
from __future__ import annotations

import math
from pathlib import PurePosixPath
from typing import Callable

import pandas as pd
import streamlit as st

from ..config import Settings
from . import cache
from .text import md_escape, plain  # noqa: F401  (plain re-exported: pages import both from here)
from .viewer import view_button, viewer


def default_caption(row: pd.Series) -> str:
    """Person (group) id and file name, label and review marks (flagged, changed, excluded) of one image:
    ``✎ 000004/mask1 · wear_male_<30``."""
    marks = "".join(m for col, m in (("flagged", "⚑"), ("changed", "✎"), ("excluded", "⊘"))
                    if bool(row.get(col, False)))
    name = PurePosixPath(str(row["image_id"])).stem
    group = str(row.get("group_id", "") or "")
    return f"{marks} {group + '/' if group else ''}{name} · {row['label']}".strip()


def page_bounds(n: int, page: int, page_size: int) -> tuple[int, int, int]:
    """``(start, stop, pages)`` of 1-based ``page`` (clamped) over ``n`` items."""
    pages = max(1, math.ceil(n / page_size))
    page = min(max(1, int(page)), pages)
    start = (page - 1) * page_size
    return start, min(start + page_size, n), pages


def selection(key: str) -> list[str]:
    """The image ids ticked in the gallery drawn with ``key``."""
    return list(st.session_state.get(f"{key}.selection", []))


def set_selection(key: str, ids: list[str]) -> None:
    st.session_state[f"{key}.selection"] = list(dict.fromkeys(ids))


def _toggle(key: str, image_id: str, widget_key: str) -> None:
    sel = selection(key)
    if st.session_state.get(widget_key):
        sel.append(image_id)
    else:
        sel = [i for i in sel if i != image_id]
    set_selection(key, sel)


def _add(key: str, ids: list[str]) -> None:
    set_selection(key, selection(key) + list(ids))


def _clear(key: str) -> None:
    set_selection(key, [])


def thumbnail(settings: Settings, image_id: str, thumb: bytes | None) -> None:
    """One cell's picture: the scan thumbnail, or a placeholder naming the file."""
    if thumb:
        st.image(thumb, width="stretch")
    else:
        st.container(height=96, border=True).caption(f"no thumbnail · {md_escape(PurePosixPath(image_id).name)}")


def grid_shape(df: pd.DataFrame) -> tuple[int, int]:
    """(columns, page size): one row per group when most groups hold 7 images (a person's 7 photos),
    else 6 columns of 4 rows."""
    groups = df["group_id"].astype(str) if "group_id" in df.columns else pd.Series("", index=df.index)
    sizes = groups[groups != ""].value_counts()
    if len(sizes) and (sizes == 7).mean() >= 0.5:
        return 7, 28
    return 6, 24


def gallery(settings: Settings, df: pd.DataFrame, *, key: str, page_size: int | None = None,
            columns: int | None = None, caption: Callable[[pd.Series], str] = default_caption, selectable: bool = True) -> list[str]:
    """Draw one page of ``df`` (rows with ``image_id`` and ``label``) as a thumbnail grid.

    Parameters
    ----------
    settings : Settings
        Where the workspace (and its scan thumbnails) is.
    df : DataFrame
        The rows to show, in display order (e.g. a filtered ``current_labels`` table).
    key : str
        Widget-key prefix; the page number lives in ``f"{key}.page"``.
    page_size, columns : int, optional
        Thumbnails per page and per row (default ``grid_shape(df)``: 7 per row for 7-photo persons).
    caption : callable
        Row -> caption text (shown literally, never as HTML).
    selectable : bool
        Draw a checkbox under each thumbnail bound to ``f"{key}.selection"``.

    Returns
    -------
    list of str
        The image ids on the page shown.
    """
    ids = df["image_id"].tolist()
    auto_cols, auto_size = grid_shape(df)
    columns, page_size = columns or auto_cols, page_size or auto_size
    page_key = f"{key}.page"
    start, stop, pages = page_bounds(len(ids), st.session_state.get(page_key, 1), page_size)
    st.session_state[page_key] = start // page_size + 1
    page_ids = ids[start:stop]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.number_input("Page", min_value=1, max_value=pages, step=1, key=page_key, width=110)
        st.caption(f"Page {start // page_size + 1} of {pages} · images {start + 1 if ids else 0}-{stop} "
                   f"of {len(ids):,}", width="content")
        if selectable:
            st.button("Select page", key=f"{key}.select_page", on_click=_add, args=(key, page_ids),
                      disabled=not page_ids)
            st.button(f"Select all {len(ids):,}", key=f"{key}.select_all", on_click=_add, args=(key, ids),
                      disabled=not ids)
            st.button("Clear selection", key=f"{key}.clear", on_click=_clear, args=(key,),
                      disabled=not selection(key))
    if not ids:
        st.info("No image matches these filters.")
        return []
    thumbs = cache.thumbs(settings, page_ids)
    if not thumbs:
        st.info("No thumbnails yet: run a scan (Overview page, or `labelscope scan DATASET`) to see the pictures.")
    chosen = set(selection(key))
    rows = df.iloc[start:stop]
    for r0 in range(0, len(rows), columns):
        cells = st.columns(columns)
        for cell, (_, row) in zip(cells, rows.iloc[r0:r0 + columns].iterrows()):
            image_id = str(row["image_id"])
            with cell:
                thumbnail(settings, image_id, thumbs.get(image_id))
                st.caption(md_escape(caption(row)))
                with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                    if selectable:
                        wkey = f"{key}.pick.{image_id}"
                        st.session_state[wkey] = image_id in chosen
                        st.checkbox("select", key=wkey, on_change=_toggle, args=(key, image_id, wkey))
                    view_button(image_id, page_ids, key=f"{key}.view.{image_id}", owner=key)
    viewer(settings, owner=key)
    return page_ids
