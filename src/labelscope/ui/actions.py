"""Review actions on a set of images: flag, relabel a field, exclude, confirm, undo.

``selection_actions`` draws the panel; every button runs its action in an ``on_click`` callback
(before the rerun, so galleries drawn afterwards show the new labels) and leaves a success or
error message under ``f"{key}.message"``. Draw it inside an ``st.fragment`` together with the
gallery it acts on. Nothing is recorded without a reviewer name (``labelscope.ui.reviewer()``).
"""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from ..config import Settings
from ..dataset import Manifest
from ..review.person import partial_persons, with_whole_persons
from . import cache
from .frame import reviewer, session_id

STATE_VERBS = (("flag", "Flag"), ("unflag", "Unflag"), ("exclude", "Exclude"), ("include", "Include"),
               ("confirm", "Confirm"))


def show_message(key: str) -> None:
    """The last action's outcome under ``key`` (success or the store's error message)."""
    msg = st.session_state.get(f"{key}.message")
    if not msg:
        return
    kind, text = msg
    from .text import plain

    (st.success if kind == "success" else st.error)(plain(text))  # names, notes, values: plain text


def run_action(settings: Settings, key: str, describe: str, act: Callable[[Any, Manifest, str], list], *,
               say: Callable[[list], str] | None = None) -> None:
    """Call ``act(store, manifest_on_disk, reviewer)`` and store its outcome as the panel message.

    The store is bound to this browser session (``session_id()``): every write carries it and
    an undo reverts only this session's own batches. ``say(events)`` words the success message.
    """
    from ..review import ReviewError

    name = reviewer()
    try:
        if not name:
            raise ReviewError("enter your reviewer name in the sidebar first")
        events = act(cache.review_store(settings).in_session(session_id()), cache.manifest(settings), name)
        if not events:
            st.session_state[f"{key}.message"] = ("success", f"{describe}: nothing to do")
        elif say is not None:
            st.session_state[f"{key}.message"] = ("success", f"{describe}: {say(events)}")
        else:
            images = len({e["image_id"] for e in events})
            st.session_state[f"{key}.message"] = (
                "success", f"{describe}: {len(events)} event(s) on {images} image(s) recorded as {name}")
    except ReviewError as e:
        st.session_state[f"{key}.message"] = ("error", str(e))


def value_input(manifest: Manifest, field: str, *, key: str, current: Any = None) -> None:
    """The widget for a new value of ``field`` (its state is ``st.session_state[key]``)."""
    spec = manifest.schema.field(field)
    if spec.kind in ("class", "choice"):
        options = list(manifest.classes if spec.kind == "class" else spec.choices)
        idx = options.index(current) if current in options else 0
        st.selectbox(f"New {field}", options, index=idx, key=key)
    elif spec.kind == "int":
        st.number_input(f"New {field}", min_value=spec.lo, max_value=spec.hi, step=1,
                        value=int(current) if current is not None else 30, key=key)
    else:
        st.text_input(f"New {field}", value=str(current or ""), key=key)


def _state(settings: Settings, key: str, verb: str, ids: list[str]) -> None:
    run_action(settings, key, verb.capitalize(),
               lambda store, m, name: getattr(store, verb)(ids, reviewer=name, manifest=m))


def _relabel(settings: Settings, key: str, ids: list[str], seen_by_field: dict[str, dict[str, Any]],
             whole: list[str]) -> None:
    field = st.session_state.get(f"{key}.field")
    value = st.session_state.get(f"{key}.value.{field}")
    if st.session_state.get(f"{key}.scope.{field}") == "person":
        ids = whole
    seen = seen_by_field.get(field, {})
    run_action(settings, key, f"Relabel {field} -> {value}",
               lambda store, m, name: store.relabel(ids, field, value, reviewer=name, manifest=m,
                                                    expected_old=seen))


def undo_action(settings: Settings, key: str) -> None:
    """Undo this session's last decision; the message says what it undid."""
    from ..review import describe_undo

    run_action(settings, key, "Undo", lambda store, m, name: store.undo(name), say=describe_undo)


_undo = undo_action


DESTRUCTIVE = ("exclude", "relabel")  # asked again, with the count, when they touch more than one image


def _ask(key: str, verb: str, ids: list[str], n: int) -> None:
    st.session_state[f"{key}.pending"] = {"verb": verb, "ids": list(ids), "n": int(n)}
    st.session_state.pop(f"{key}.message", None)


def _cancel(key: str) -> None:
    st.session_state.pop(f"{key}.pending", None)


def _confirmed(key: str, act: Callable[..., None], *args: Any) -> None:
    st.session_state.pop(f"{key}.pending", None)
    act(*args)


def selection_actions(settings: Settings, manifest: Manifest, image_ids: list[str], *, key: str,
                      page: str = "this", total: int | None = None) -> None:
    """Buttons acting on ``image_ids`` (the images ticked in one page's gallery) through the review store.

    Parameters
    ----------
    settings : Settings
        The app's settings (workspace, review database).
    manifest : Manifest
        The labels the reviewer is looking at (a ``current_labels`` result): a relabel carries
        them as the values seen, so a change made meanwhile by someone else is refused.
    image_ids : list of str
        The images to act on: ``labelscope.ui.gallery.selection(gallery_key)`` of this page.
    key : str
        Widget-key prefix (``f"{key}.flag"``, ``f"{key}.relabel"``, ``f"{key}.message"``...).
    page : str
        The page's name, so the bar says whose images it touches.
    total : int, optional
        How many images the page's gallery shows ("3 of 57 images ticked on the Embeddings page").

    Exclude and relabel on more than one image ask to confirm with the count first.
    """
    ids = list(dict.fromkeys(image_ids))
    name = reviewer()
    of = f" of {total:,}" if total is not None else ""
    st.markdown(f"**{len(ids):,}{of} image(s) selected on the {page} page**")
    if not name:
        st.warning("Enter your reviewer name in the sidebar to record decisions.")
    blocked = not name or not ids
    with st.container(horizontal=True):
        for verb, label in STATE_VERBS:
            if verb in DESTRUCTIVE and len(ids) > 1:
                st.button(label, key=f"{key}.{verb}", on_click=_ask, args=(key, verb, ids, len(ids)),
                          disabled=blocked)
            else:
                st.button(label, key=f"{key}.{verb}", on_click=_state, args=(settings, key, verb, ids),
                          disabled=blocked)
    field = st.selectbox("Field", manifest.fields, key=f"{key}.field")
    rows = manifest.df[manifest.df["image_id"].isin(ids)]
    current = rows[field].iloc[0] if len(rows) and rows[field].nunique() == 1 else None
    value_input(cache.manifest(settings), field, key=f"{key}.value.{field}", current=current)
    whole = with_whole_persons(manifest, ids) if field in manifest.person_fields else ids
    partial = partial_persons(manifest, ids) if field in manifest.person_fields else {}
    n = len(ids)
    relabel_blocked = blocked
    if partial:
        who = ", ".join(f"{g} ({k} of {t})" for g, (k, t) in list(partial.items())[:3])
        more = f" and {len(partial) - 3} more" if len(partial) > 3 else ""
        scope = st.radio(f"{field} belongs to the person: the selection holds only some photos of {who}{more}. "
                         "Apply the change to", ["person", "photos"], key=f"{key}.scope.{field}", index=None,
                         format_func=lambda v: (f"all {len(whole):,} photos of the person(s)" if v == "person"
                                                else f"only the {len(ids):,} selected photo(s) (leaves them "
                                                     "inconsistent)"))
        n = len(whole) if scope == "person" else len(ids)
        relabel_blocked = blocked or scope is None  # asked, not assumed
    wide = manifest.df[manifest.df["image_id"].isin(whole)]
    seen = {f: dict(zip(wide["image_id"], wide[f])) for f in manifest.fields}
    relabel_args = (settings, key, ids, seen, whole)
    if n > 1:
        st.button(f"Relabel {field} of {n:,} image(s)", key=f"{key}.relabel", type="primary", on_click=_ask,
                  args=(key, "relabel", ids, n), disabled=relabel_blocked, width="stretch")
    else:
        st.button(f"Relabel {field} of {n:,} image(s)", key=f"{key}.relabel", type="primary",
                  on_click=_relabel, args=relabel_args, disabled=relabel_blocked, width="stretch")
    pending = st.session_state.get(f"{key}.pending")
    if pending and pending["ids"] != ids:  # the selection changed since: ask again
        _cancel(key)
        pending = None
    if pending:
        verb, count = pending["verb"], pending["n"]
        what = (f"exclude {count:,} images from training" if verb == "exclude"
                else f"set {field} to {st.session_state.get(f'{key}.value.{field}')!s} on {count:,} images")
        st.warning(f"Really {what} (selected on the {page} page)?")
        c1, c2 = st.columns(2)
        act, args = ((_state, (settings, key, "exclude", ids)) if verb == "exclude" else (_relabel, relabel_args))
        c1.button(f"Yes, {verb} {count:,} images", key=f"{key}.yes", type="primary", width="stretch",
                  on_click=_confirmed, args=(key, act, *args), disabled=blocked)
        c2.button("Cancel", key=f"{key}.cancel", on_click=_cancel, args=(key,), width="stretch")
    st.button("Undo my last action", key=f"{key}.undo", on_click=_undo, args=(settings, key),
              disabled=not name, width="stretch")
    show_message(key)
