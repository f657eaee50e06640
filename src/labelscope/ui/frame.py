"""``frame()``: the first call of ``app.py`` and of every page.

Page config, the sidebar (dataset, workspace, reviewer name) and one ``init_state()`` that
creates every session-state key, namespaced (``review.gallery.selection``, ``filter.classes``...).
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import streamlit as st

from ..config import Settings

# Every session-state key the app uses, with its initial value. Pages add theirs here.
STATE_DEFAULTS: dict[str, Any] = {
    "reviewer": "",
    # each gallery owns its ticked images: f"{gallery key}.selection" (never shared across pages)
    "review.gallery.selection": [],
    "colours.gallery.selection": [],
    "faces.gallery.selection": [],
    "quality.gallery.selection": [],
    "quality.dup_gallery.selection": [],
    "emb.gallery.selection": [],
    "emb.map": [],
    "review.page": 0,
    "person.current": None,
    "queue.position": 0,
    "feeding.report": None,
}
QUEUE_CURRENT = "queue.current"   # rank of the Queue card to show (None: the first unreviewed one)
QUEUE_PINNED = "queue.pinned"     # the reviewer navigated to it (Skip / Back / Undo): show it even when reviewed


# The sidebar navigation, in the order a reviewer works: look, find, fix, export, train.
# (Streamlit's own list would call the home page "app" and sort by file name.)
PERSON_PAGE = "pages/3_Person.py"
NAVIGATION: tuple[tuple[str, str, str], ...] = (
    ("app.py", "Overview", ":material/dashboard:"),
    ("pages/1_Colours.py", "Colours", ":material/palette:"),
    ("pages/7_Quality.py", "Quality", ":material/high_quality:"),
    ("pages/5_Faces.py", "Faces", ":material/face:"),
    ("pages/4_Embeddings.py", "Embeddings", ":material/scatter_plot:"),
    ("pages/9_Queue.py", "Queue", ":material/checklist:"),
    ("pages/2_Review.py", "Review", ":material/photo_library:"),
    ("pages/3_Person.py", "Person", ":material/person:"),
    ("pages/8_Export.py", "Export", ":material/download:"),
    ("pages/6_Training.py", "Training", ":material/model_training:"),
    ("pages/10_Feeding.py", "Feeding", ":material/speed:"),
)


def init_state() -> None:
    for key, value in STATE_DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = list(value) if isinstance(value, list) else value
    if not st.session_state.get(SESSION):
        import uuid

        st.session_state[SESSION] = uuid.uuid4().hex


SESSION = "review.session"  # this browser session's identity: its writes carry it, Undo undoes only them


def session_id() -> str:
    """This browser session's review identity (every decision it writes carries it)."""
    if not st.session_state.get(SESSION):
        init_state()
    return str(st.session_state[SESSION])


def _cli_option(name: str) -> str | None:
    """``streamlit run app.py -- --dataset PATH --db URL``: an option after the ``--``."""
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def _cli_dataset() -> str | None:
    return _cli_option("--dataset")


def settings() -> Settings:
    """Built on every run (cheap): ``--dataset`` after ``--``, else LABELSCOPE_DATASET, else data/demo;
    ``--db URL`` (else LABELSCOPE_DB) picks the review store."""
    s = Settings.build(_cli_dataset())
    db = _cli_option("--db")
    return s.with_(db_url=db) if db else s


def reviewer() -> str:
    """The reviewer's name for this session ("" until given in the sidebar)."""
    return str(st.session_state.get("reviewer", "")).strip()


def _started_from_app() -> bool:
    """True when the entry script is app.py (``streamlit run app.py``), not a page run on its own
    (an AppTest of one page): links are relative to the entry script."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx) and Path(ctx.main_script_path).name == "app.py"


def _store_reviewer() -> None:
    name = str(st.session_state.get("_reviewer_input", "")).strip()
    st.session_state["reviewer"] = name
    if name:
        st.query_params["reviewer"] = name
    else:
        st.query_params.pop("reviewer", None)


def _keep_reviewer_in_url() -> None:
    """The reviewer's name survives a reload: it is kept in the URL (``?reviewer=ana``) and read
    back from it when a new session starts."""
    name = st.session_state.get("reviewer", "")
    from_url = str(st.query_params.get("reviewer", "")).strip()
    if not name and from_url and not st.session_state.get("_reviewer_from_url"):
        st.session_state["reviewer"] = from_url  # a reload: a new session, the same reviewer
    elif name and from_url != name:
        st.query_params["reviewer"] = name  # a page switch drops the query string
    st.session_state["_reviewer_from_url"] = True


@functools.lru_cache(maxsize=1)
def favicon() -> Any:
    """The page icon, drawn here and served by the app itself (a ``:material/...:`` or emoji icon
    makes the browser fetch it from the internet)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((2, 2, 62, 62), radius=14, fill=(32, 110, 210, 255))
    d.rectangle((20, 14, 28, 50), fill="white")
    d.rectangle((20, 42, 46, 50), fill="white")
    return im


def frame(title: str, *, icon: str = ":material/label:", wide: bool = True) -> Settings:
    """Set up a page: config, state, sidebar. Returns the app's Settings.

    ``icon`` is kept for the pages' calls; the browser tab shows the local ``favicon()``, so no
    request leaves the machine.
    """
    st.set_page_config(page_title=f"{title} · labelscope", page_icon=favicon(), layout="wide" if wide else "centered")
    init_state()
    _keep_reviewer_in_url()
    s = settings()
    with st.sidebar:
        st.markdown("### labelscope")
        if _started_from_app():
            from . import cache

            known = cache.manifest(s)
            for path, label, page_icon in NAVIGATION:
                if path == PERSON_PAGE and not known.has_groups:
                    continue  # a layout without groups has no Person page to offer
                if path == PERSON_PAGE and not known.person_fields:
                    label, page_icon = "Group", ":material/group_work:"
                st.page_link(path, label=label, icon=page_icon)
            st.divider()
        # The widget has its own key; the name lives in "reviewer", which survives page switches
        # (Streamlit drops a widget's state on a page where that widget is not drawn yet).
        st.session_state["_reviewer_input"] = st.session_state["reviewer"]
        st.text_input("Reviewer name", key="_reviewer_input", on_change=_store_reviewer,
                      placeholder="needed to record decisions",
                      help="Every decision is recorded under this name in the audit log.")
        if not reviewer():
            st.caption(":orange[Enter your name to flag or relabel images.]")
        st.caption(f"Dataset: `{s.dataset}`")
        st.caption(f"Workspace: `{s.workspace}`")
    from . import cache

    problem = cache.store_problem(s)
    if problem:  # every page says it, the same way; nothing is drawn on labels that cannot be read
        from .text import plain

        st.error(f"Review decisions cannot be read: {plain(problem)}")
        st.stop()
    return s
