"""The review queue: one suspect at a time, one key per decision, the queue moves on.

Keys: **A** accept the suggestion, **K** keep (confirm), **L** relabel, **X** exclude,
**S** skip, **B** back. Decisions go to the review store (``labelscope.queue.decisions``);
the position lives in ``st.session_state["queue.position"]``. Drawn in an ``st.fragment``
so a decision reruns only the card.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd
import streamlit as st

from ..config import Settings
from ..queue import decisions
from ..queue.cards import face_boxes, face_crop, item_photos, item_title
from ..workspace import Workspace
from . import cache
from .actions import run_action, show_message, value_input
from .frame import reviewer
from .gallery import md_escape, thumbnail

POSITION = "queue.position"
ISSUE_LABELS = {"label": "Label", "person": "Person", "duplicate": "Duplicate", "outlier": "Outlier",
                "quality": "Image quality"}


@st.cache_data(show_spinner=False, max_entries=4)
def _suspects(ws: str, token: float) -> pd.DataFrame | None:
    from ..issues import load_suspects

    return load_suspects(ws)


def suspects(settings: Settings) -> pd.DataFrame | None:
    """The cached suspects table (re-read when ``labelscope suspects`` rewrote it)."""
    path = Workspace(settings.workspace).suspects
    try:
        token = path.stat().st_mtime_ns
    except OSError:
        return None
    return _suspects(str(path.parent), token)


@st.cache_data(show_spinner=False, max_entries=4)
def _boxes(ws: str, token: float) -> dict[str, tuple[float, float, float, float]]:
    return face_boxes(Workspace(ws))


def boxes(settings: Settings) -> dict[str, tuple[float, float, float, float]]:
    path = Workspace(settings.workspace).faces
    try:
        token = path.stat().st_mtime_ns
    except OSError:
        return {}
    return _boxes(str(settings.workspace), token)


@st.cache_data(show_spinner=False, max_entries=256)
def _crop(path: str, box: tuple[float, float, float, float]) -> bytes | None:
    return face_crop(path, box)


def find_suspects_button(settings: Settings, *, key: str = "queue") -> None:
    """The suspects job's progress block and its start button (see ``ui.jobs.find_suspects``)."""
    from .jobs import find_suspects

    find_suspects(settings, key=key)


def _advance(table: pd.DataFrame, settings: Settings, start: int) -> None:
    """Move to the first unreviewed suspect after ``start`` (the end when none is left)."""
    done = decisions.reviewed(table, cache.current_labels(settings))
    later = [k for k in range(start + 1, len(table)) if not done[k]]
    st.session_state[POSITION] = later[0] if later else min(start + 1, max(len(table) - 1, 0))


def _decide(settings: Settings, key: str, table: pd.DataFrame, pos: int, describe: str,
            act: Callable[[Any, Any, str], list]) -> None:
    run_action(settings, key, describe, act)
    if st.session_state.get(f"{key}.message", ("",))[0] == "success":
        _advance(table, settings, pos)


def _skip(table: pd.DataFrame, pos: int, step: int) -> None:
    st.session_state[POSITION] = min(max(pos + step, 0), max(len(table) - 1, 0))


def _accept_args(row: pd.Series, key: str) -> dict[str, Any]:
    age = st.session_state.get(f"{key}.accept_age") if row["issue"] == "person" and row["field"] == "age" else None
    return {"age": int(age)} if age is not None else {}


def _photos(settings: Settings, row: pd.Series, manifest) -> None:
    photos = item_photos(row, manifest)
    if photos.empty:
        st.info("The images of this suspect are no longer in the dataset.")
        return
    thumbs = cache.thumbs(settings, photos["image_id"].tolist())
    face = boxes(settings)
    ncols = 7 if row["issue"] == "person" else 5
    cells = st.columns(ncols)
    for k, p in enumerate(photos.itertuples(index=False)):
        with cells[k % ncols]:
            thumbnail(settings, p.image_id, thumbs.get(p.image_id))
            st.caption(("**→** " if p.highlight else "") + md_escape(p.caption))
    if row["issue"] != "person" and row["image_id"] in face:
        crop = _crop(str(manifest.path_of(row["image_id"])), face[row["image_id"]])
        if crop:
            cells[len(photos) % ncols].image(crop, caption="face", width="stretch")


@st.fragment
def queue_panel(settings: Settings, *, key: str = "queue") -> None:
    """Progress, the current suspect with its photos, and the decision buttons."""
    table = suspects(settings)
    if table is None or table.empty:
        st.success("No suspects: nothing to review.") if table is not None else None
        return
    manifest = cache.current_labels(settings)
    kinds = [k for k in ISSUE_LABELS if k in set(table["issue"])]
    chosen = st.pills("Issues", kinds, selection_mode="multi", default=kinds, key=f"{key}.issues",
                      format_func=lambda k: ISSUE_LABELS[k])
    view = table[table["issue"].isin(chosen or kinds)].reset_index(drop=True)
    done = decisions.reviewed(view, manifest)
    st.progress(float(done.mean()) if len(view) else 1.0, text=f"Reviewed {int(done.sum()):,} / {len(view):,}")
    if view.empty:
        return
    pos = min(max(int(st.session_state.get(POSITION, 0)), 0), len(view) - 1)
    st.session_state[POSITION] = pos
    row = view.iloc[pos]
    st.subheader(md_escape(item_title(row)))
    state = "reviewed" if done[pos] else "to review"
    st.caption(f"Suspect {pos + 1:,} of {len(view):,} ({state}) · score {row['score']:.3f} "
               f"(low = more suspicious) · {md_escape(row['detail'])}")
    c1, c2 = st.columns(2)
    conf = "" if pd.isna(row["confidence"]) else f" ({row['confidence']:.0%} likely)"
    c1.markdown(f"**Given**  \n{md_escape(row['given']) or 'none'}")
    c2.markdown(f"**Suggested**  \n:green[{md_escape(row['suggested'])}]{conf}" if row["suggested"]
                else "**Suggested**  \nnone")  # a lone "-" under a line would make it a heading
    _photos(settings, row, manifest)
    if row["issue"] == "person" and row["field"] == "age" and row["suggested"]:
        st.number_input("Age to write when accepting", min_value=0, max_value=130, step=1,
                        value=decisions.AGE_FOR_GROUP.get(row["suggested"], 30), key=f"{key}.accept_age")
    name = reviewer()
    if not name:
        st.warning("Enter your reviewer name in the sidebar to record decisions.")
    blocked = not name
    accept_label = "Accept: exclude" if row["issue"] in decisions.EXCLUDE_ON_ACCEPT else "Accept"
    b = st.columns(6)
    b[0].button(accept_label, key=f"{key}.accept", shortcut="A", type="primary", width="stretch",
                disabled=blocked or not decisions.can_accept(row), on_click=_decide,
                args=(settings, key, view, pos, "Accepted",
                      lambda store, m, who: decisions.accept(store, row, reviewer=who, manifest=m,
                                                             **_accept_args(row, key))))
    b[1].button("Keep", key=f"{key}.keep", shortcut="K", width="stretch", disabled=blocked, on_click=_decide,
                args=(settings, key, view, pos, "Kept",
                      lambda store, m, who: decisions.keep(store, row, reviewer=who, manifest=m)))
    b[2].button("Relabel…", key=f"{key}.relabel_open", shortcut="L", width="stretch", disabled=blocked,
                on_click=lambda: st.session_state.update({f"{key}.relabel_on": True}))
    b[3].button("Exclude", key=f"{key}.exclude", shortcut="X", width="stretch", disabled=blocked,
                on_click=_decide, args=(settings, key, view, pos, "Excluded",
                                        lambda store, m, who: decisions.exclude(store, row, reviewer=who,
                                                                                manifest=m)))
    b[4].button("Skip", key=f"{key}.skip", shortcut="S", width="stretch", on_click=_skip, args=(view, pos, 1))
    b[5].button("Back", key=f"{key}.back", shortcut="B", width="stretch", on_click=_skip, args=(view, pos, -1))
    if st.session_state.get(f"{key}.relabel_on"):
        _relabel_form(settings, key, view, pos, row, manifest)
    show_message(key)


def _relabel_form(settings: Settings, key: str, view: pd.DataFrame, pos: int, row: pd.Series, manifest) -> None:
    fields = [row["field"]] if row["field"] in manifest.fields else list(manifest.fields)
    field = st.selectbox("Field", fields, key=f"{key}.relabel_field")
    value_input(cache.manifest(settings), field, key=f"{key}.relabel_value.{field}")

    def _save() -> None:
        value = st.session_state.get(f"{key}.relabel_value.{field}")
        st.session_state[f"{key}.relabel_on"] = False
        _decide(settings, key, view, pos, f"Relabelled {field} -> {value}",
                lambda store, m, who: decisions.relabel(store, row, field, value, reviewer=who, manifest=m))

    st.button(f"Save {field}", key=f"{key}.relabel_save", type="primary", on_click=_save,
              disabled=not reviewer())


def queue_path_note(settings: Settings) -> str:
    return f"`labelscope suspects {Path(settings.dataset)} --out suspects.csv`"
