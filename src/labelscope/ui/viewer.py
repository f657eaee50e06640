"""The full-resolution viewer: any thumbnail's View button opens its image in a dialog.

Decoded on demand (``labelscope.faces.crops.upright_image``: the file at full size, EXIF-rotated),
drawn in a plotly figure (scroll or drag to zoom, double-click to reset, pan with the modebar),
with the face box from ``faces.parquet`` and the pixel size, and Previous / Next through the
images of the grid it was opened from.
"""
from __future__ import annotations

import base64
from typing import Any

import streamlit as st

from ..config import Settings
from ..workspace import Workspace
from . import cache

IDS, INDEX, OPEN, OWNER = "viewer.ids", "viewer.index", "viewer.open", "viewer.owner"


@st.cache_data(show_spinner=False, max_entries=4)
def _boxes(ws: str, token: float) -> dict[str, Any]:
    from ..queue.cards import face_boxes

    return face_boxes(Workspace(ws))


def boxes(settings: Settings) -> dict[str, Any]:
    """image_id -> FaceBox of the workspace's face scan ({} before one)."""
    path = Workspace(settings.workspace).faces
    try:
        token = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _boxes(str(settings.workspace), token)


@st.cache_data(show_spinner=False, max_entries=8)
def _full(path: str, token: float) -> tuple[bytes, tuple[int, int]]:
    from ..faces.crops import upright_image

    return upright_image(path)


def _open(ids: list[str], index: int, owner: str) -> None:
    st.session_state[IDS] = list(ids)
    st.session_state[INDEX] = int(index)
    st.session_state[OPEN] = True
    st.session_state[OWNER] = owner


def view_button(image_id: str, ids: list[str], *, key: str, owner: str) -> None:
    """A small button under a thumbnail that opens ``image_id`` (browsing ``ids``) in the viewer;
    ``owner`` names the grid, whose ``viewer(settings, owner=...)`` call draws the dialog."""
    st.button("View", key=key, icon=":material/zoom_in:", help="Open at full resolution", on_click=_open,
              args=(ids, ids.index(image_id) if image_id in ids else 0, owner))


def viewer(settings: Settings, *, owner: str) -> None:
    """Show the viewer dialog while it is open for ``owner`` (closing it clears ``viewer.open``).

    Call at the end of the page or fragment that holds that grid's thumbnails.
    """
    if st.session_state.get(OPEN) and st.session_state.get(IDS) and st.session_state.get(OWNER) == owner:
        _dialog(settings)


def _close() -> None:
    st.session_state[OPEN] = False


def _step(delta: int) -> None:
    n = len(st.session_state.get(IDS, [])) or 1
    st.session_state[INDEX] = (int(st.session_state.get(INDEX, 0)) + delta) % n


@st.dialog("Full resolution", width="large", on_dismiss=_close)
def _dialog(settings: Settings) -> None:
    import plotly.graph_objects as go

    from .text import md_escape

    ids = list(st.session_state.get(IDS, []))
    k = min(max(int(st.session_state.get(INDEX, 0)), 0), len(ids) - 1)
    image_id = ids[k]
    manifest = cache.current_labels(settings)
    path = manifest.path_of(image_id)
    try:
        data, (w, h) = _full(str(path), path.stat().st_mtime_ns)
    except OSError as e:
        st.error(str(e))
        return
    row = manifest.df.set_index("image_id").loc[image_id] if image_id in set(manifest.df["image_id"]) else None
    label = f" · {row['label']}" if row is not None else ""
    st.markdown(f"**{md_escape(image_id)}**{md_escape(label)}  \n{w} × {h} px · image {k + 1} of {len(ids)}")
    fig = go.Figure(go.Image(source="data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")))
    box = boxes(settings).get(image_id)
    if box is not None:
        fig.add_shape(type="rect", x0=box.x1, y0=box.y1, x1=box.x2, y1=box.y2,
                      line=dict(color="#00e676", width=2))
    fig.update_xaxes(visible=False, range=[0, w])
    fig.update_yaxes(visible=False, range=[h, 0], scaleanchor="x")
    fig.update_layout(height=min(620, max(320, int(h * 720 / max(w, 1)))), margin=dict(l=0, r=0, t=0, b=0),
                      dragmode="zoom")
    st.plotly_chart(fig, key="viewer.figure", width="stretch",
                    config={"scrollZoom": True, "displaylogo": False, "modeBarButtonsToRemove": ["toImage"]})
    st.caption(("Face box from the face scan (green). " if box is not None else "No face box. ")
               + "Scroll or drag to zoom, double-click to reset, pan with the modebar's hand.")
    c1, c2 = st.columns(2)
    c1.button("← Previous", key="viewer.prev", on_click=_step, args=(-1,), width="stretch", disabled=len(ids) < 2)
    c2.button("Next →", key="viewer.next", on_click=_step, args=(1,), width="stretch", disabled=len(ids) < 2)
