"""The review queue: one suspect at a time, one key per decision, the queue moves on.

Keys: **A** accept the suggestion, **K** keep (confirm), **L** relabel, **X** exclude,
**S** skip, **B** back, **U** undo my last decision; duplicate cards: **K** keep both, **X**
exclude this, **O** exclude the other, **M** relabel to match. Decisions go to the review store
(``labelscope.queue.decisions``). The position is the card's rank (``queue.current``): the
next unreviewed card of the current filter, unless the reviewer went back to one. After the
flagged items the queue goes on with the rest of the label ranking, most suspicious first.
Drawn in an ``st.fragment`` so a decision reruns only the card.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd
import streamlit as st

from ..config import Settings
from ..queue import decisions
from ..queue.cards import face_crop, item_photos, item_title
from ..workspace import Workspace
from . import cache
from .actions import run_action, show_message, value_input
from .frame import QUEUE_CURRENT, QUEUE_PINNED, reviewer
from .gallery import md_escape, thumbnail
from .jobs import find_suspects
from .viewer import boxes, view_button, viewer

POSITION = "queue.position"   # index of the card shown, in the filtered list
CURRENT = QUEUE_CURRENT       # rank of the card to show
PINNED = QUEUE_PINNED         # the reviewer navigated to it (Skip / Back / Undo): show it even when reviewed
LAST = "queue.last"           # the latest decision, named by its card
DEEPER_SHOWN = 2000           # unflagged label rows offered after the flagged ones


@st.cache_data(show_spinner=False, max_entries=4)
def _suspects(ws: str, token: float, deeper: bool) -> pd.DataFrame | None:
    from ..issues import load_suspects

    return load_suspects(ws, deeper=deeper)


def suspects(settings: Settings, *, deeper: bool = False) -> pd.DataFrame | None:
    """The cached suspects table (re-read when ``labelscope suspects`` rewrote it); ``deeper``: with
    the unflagged label rows after the flagged ones."""
    path = Workspace(settings.workspace).suspects
    try:
        token = path.stat().st_mtime_ns
    except OSError:
        return None
    return _suspects(str(path.parent), token, deeper)


@st.cache_data(show_spinner=False, max_entries=256)
def _crop(path: str, box: tuple[float, ...]) -> bytes | None:
    return face_crop(path, box)


def find_suspects_button(settings: Settings, *, key: str = "queue") -> None:
    """The suspects job's progress block and its start button (see ``ui.jobs.find_suspects``)."""
    find_suspects(settings, key=key)


def _card_key(key: str, row: Any) -> str:
    return f"{key}.card{int(row['rank'])}"


def _go(view: pd.DataFrame, pos: int, *, pinned: bool) -> None:
    pos = min(max(pos, 0), max(len(view) - 1, 0))
    st.session_state[CURRENT] = int(view["rank"].iloc[pos]) if len(view) else None
    st.session_state[PINNED] = pinned


def _reset_position() -> None:
    """A new filter starts at its first unreviewed card."""
    st.session_state[CURRENT] = None
    st.session_state[PINNED] = False


def _decide(settings: Settings, key: str, view: pd.DataFrame, pos: int, describe: str,
            act: Callable[[Any, Any, str], list]) -> None:
    """Record one decision on the card at ``pos``; on success move to the next unreviewed card."""
    row = view.iloc[pos]
    card = _card_key(key, row)
    run_action(settings, card, describe, act)
    kind, text = st.session_state.get(f"{card}.message", ("", ""))
    if kind != "success":
        return  # the error stays on this card
    st.session_state[f"{card}.relabel_on"] = False
    st.session_state[LAST] = f"#{int(row['rank'])}: {text}"
    done = decisions.reviewed(view, cache.current_labels(settings))
    nxt = decisions.next_open(done, pos)
    _go(view, pos if nxt is None else nxt, pinned=False)


def _undo(settings: Settings, key: str, view: pd.DataFrame) -> None:
    """Undo this reviewer's last decision and show the card it was made on."""
    written: list[dict] = []

    def act(store: Any, m: Any, who: str) -> list:
        written.extend(store.undo(who))  # the store is bound to this session: only its own batches
        return written

    from ..review import describe_undo

    run_action(settings, f"{key}.undo", "Undone", act, say=describe_undo)
    kind, text = st.session_state.pop(f"{key}.undo.message", ("", ""))
    if kind != "success":
        st.session_state[LAST] = f"Undo: {text}"
        return
    reverted = {str(e["image_id"]) for e in written}
    manifest = cache.current_labels(settings)
    hit = next((k for k, r in enumerate(view.itertuples(index=False))
                if reverted & set(decisions.item_images(r, manifest))), None)
    st.session_state[LAST] = text + (f" (card #{int(view['rank'].iloc[hit])})" if hit is not None else "")
    if hit is not None:
        _go(view, hit, pinned=True)


def _accept_args(row: pd.Series, key: str) -> dict[str, Any]:
    age = st.session_state.get(f"{key}.accept_age") if row["issue"] == "person" and row["field"] == "age" else None
    return {"age": int(age)} if age is not None else {}


def _photo_cell(settings: Settings, image_id: str, thumb: bytes | None, caption: str, ids: list[str],
                card: str, *, highlight: bool = False) -> None:
    thumbnail(settings, image_id, thumb)
    st.caption(("**→** " if highlight else "") + md_escape(caption))
    view_button(image_id, ids, key=f"{card}.view.{image_id}", owner="queue")


def _photos(settings: Settings, row: pd.Series, manifest, card: str) -> None:
    photos = item_photos(row, manifest)
    if photos.empty:
        st.info("The images of this suspect are no longer in the dataset.")
        return
    ids = photos["image_id"].tolist()
    thumbs = cache.thumbs(settings, ids)
    face = boxes(settings)
    ncols = 7 if row["issue"] == "person" else 5
    cells = st.columns(ncols)
    for k, p in enumerate(photos.itertuples(index=False)):
        with cells[k % ncols]:
            _photo_cell(settings, p.image_id, thumbs.get(p.image_id), p.caption, ids, card, highlight=p.highlight)
    if row["issue"] != "person" and row["image_id"] in face and len(photos) < ncols:
        crop = _crop(str(manifest.path_of(row["image_id"])), tuple(face[row["image_id"]]))
        if crop:
            cells[len(photos)].image(crop, caption="face", width="stretch")


def _duplicate_photos(settings: Settings, row: pd.Series, manifest, card: str) -> None:
    """The two copies side by side, large, each with its id, person and label."""
    this, other = decisions.duplicate_pair(row)
    df = manifest.df.set_index("image_id")
    thumbs = cache.thumbs(settings, [this, other])
    cols = st.columns(2)
    for col, image_id, who in zip(cols, (this, other), ("This copy", "The other copy")):
        with col:
            if image_id not in df.index:
                st.info(f"{who} ({image_id}) is no longer in the dataset.")
                continue
            r = df.loc[image_id]
            person = f" · person {r['group_id']}" if str(r["group_id"]) else ""
            flags = " · excluded" if bool(r.get("excluded", False)) else ""
            st.markdown(f"**{who}**")
            _photo_cell(settings, image_id, thumbs.get(image_id), f"{image_id}{person} · {r['label']}{flags}",
                        [this, other], card)


@st.fragment
def queue_panel(settings: Settings, *, key: str = "queue") -> None:
    """Progress, the current suspect with its photos, and the decision buttons."""
    table = suspects(settings, deeper=True)
    if table is None or table.empty:
        st.success("No suspects: nothing to review.") if table is not None else None
        return
    flagged_mask = table["flagged"].astype(bool) if "flagged" in table.columns else pd.Series(True, index=table.index)
    table = pd.concat([table[flagged_mask], table[~flagged_mask].head(DEEPER_SHOWN)], ignore_index=True)
    manifest = cache.current_labels(settings)
    from ..issues import CHECKS

    kinds = [k for k in CHECKS if k in set(table["issue"])]
    chosen = st.pills("Issues", kinds, selection_mode="multi", default=kinds, key=f"{key}.issues",
                      format_func=lambda k: CHECKS[k].short, on_change=_reset_position)
    view = table[table["issue"].isin(chosen or kinds)].reset_index(drop=True)
    flagged = view["flagged"].astype(bool).to_numpy() if "flagged" in view.columns else [True] * len(view)
    done = decisions.reviewed(view, manifest)
    n_flagged = int(sum(flagged))
    done_flagged = int(sum(d for d, f in zip(done, flagged) if f))
    st.progress(done_flagged / n_flagged if n_flagged else 1.0,
                text=f"Reviewed {done_flagged:,} / {n_flagged:,}"
                     + (f" · {len(view) - n_flagged:,} more ranked next (review deeper)" if len(view) > n_flagged else ""))
    last = st.session_state.get(LAST)
    if last:
        st.caption(f"Last: {md_escape(last)}")
    if view.empty:
        return
    name = reviewer()
    pos = decisions.choose_position(view["rank"].tolist(), done, st.session_state.get(CURRENT),
                                    pinned=bool(st.session_state.get(PINNED)))
    if pos is None:
        st.success(f"All {len(view):,} items of this filter are reviewed.")
        st.button("Undo my last decision", key=f"{key}.undo", shortcut="U", disabled=not name,
                  on_click=_undo, args=(settings, key, view))
        return
    st.session_state[POSITION] = pos
    st.session_state[CURRENT] = int(view["rank"].iloc[pos])
    row = view.iloc[pos]
    card = _card_key(key, row)
    deeper = not bool(flagged[pos])
    st.subheader(md_escape(item_title(row)))
    state = "reviewed" if done[pos] else "to review"
    where = (f"Review deeper: {pos + 1 - n_flagged:,} of {len(view) - n_flagged:,} ranked after the flagged items"
             if deeper else f"Suspect {pos + 1:,} of {n_flagged:,}")
    st.caption(f"{where} ({state}) · score {row['score']:.3f} (low = more suspicious) · {md_escape(row['detail'])}")
    c1, c2 = st.columns(2)
    conf = "" if pd.isna(row["confidence"]) else f" ({row['confidence']:.0%} likely)"
    c1.markdown(f"**Given**  \n{md_escape(row['given']) or 'none'}")
    suggestion = decisions.suggestion_text(row)
    c2.markdown(f"**Accepting will**  \n:green[{md_escape(suggestion)}]{conf if row['suggested'] else ''}"
                if suggestion else "**Suggested**  \nnone")  # a lone "-" under a line would make it a heading
    if row["issue"] == "person" and row["field"] == "age" and row["suggested"]:
        st.number_input("Age to write when accepting", min_value=0, max_value=130, step=1,
                        value=decisions.AGE_FOR_GROUP.get(row["suggested"], 30), key=f"{key}.accept_age")
    if not name:
        st.warning("Enter your reviewer name in the sidebar to record decisions.")
    pair = row["issue"] == "duplicate" and bool(decisions.value_of(row, "images"))
    seen = decisions.seen_values(row, manifest)  # what this card shows: every write carries it
    if pair:
        _duplicate_buttons(settings, key, view, pos, row, blocked=not name, seen=seen)
    else:
        _buttons(settings, key, view, pos, row, blocked=not name, seen=seen)
    if st.session_state.get(f"{card}.relabel_on"):
        _relabel_form(settings, card, view, pos, row, manifest, key=key)
    show_message(card)
    if pair:
        _duplicate_photos(settings, row, manifest, card)
    else:
        _photos(settings, row, manifest, card)
    viewer(settings, owner="queue")  # inside the fragment: a View click reruns only this part


def _nav_buttons(settings: Settings, key: str, view: pd.DataFrame, pos: int, blocked: bool) -> None:
    st.button("Skip", key=f"{key}.skip", shortcut="S", width="content", on_click=_go, args=(view, pos + 1),
                kwargs={"pinned": True})
    st.button("Back", key=f"{key}.back", shortcut="B", width="content", on_click=_go, args=(view, pos - 1),
                kwargs={"pinned": True})
    st.button("Undo", key=f"{key}.undo", shortcut="U", width="content", disabled=blocked,
                help="Undo my last decision", on_click=_undo, args=(settings, key, view))


def _buttons(settings: Settings, key: str, view: pd.DataFrame, pos: int, row: pd.Series, *, blocked: bool,
             seen: dict[str, dict[str, str]] | None = None) -> None:
    card = _card_key(key, row)
    accept_label = "Accept: exclude" if row["issue"] in decisions.EXCLUDE_ON_ACCEPT else "Accept"
    with st.container(horizontal=True, gap="small"):  # wraps instead of truncating labels at 1024 px
        _regular_buttons(settings, key, view, pos, row, card, accept_label, blocked, seen)


def _regular_buttons(settings: Settings, key: str, view: pd.DataFrame, pos: int, row: pd.Series, card: str,
                     accept_label: str, blocked: bool, seen: dict[str, dict[str, str]] | None = None) -> None:
    st.button(accept_label, key=f"{key}.accept", shortcut="A", type="primary", width="content",
                disabled=blocked or not decisions.can_accept(row), on_click=_decide,
                args=(settings, key, view, pos, "Accepted",
                      lambda store, m, who: decisions.accept(store, row, reviewer=who, manifest=m, seen=seen,
                                                             **_accept_args(row, key))))
    st.button("Keep", key=f"{key}.keep", shortcut="K", width="content", disabled=blocked, on_click=_decide,
                args=(settings, key, view, pos, "Kept",
                      lambda store, m, who: decisions.keep(store, row, reviewer=who, manifest=m)))
    st.button("Relabel…", key=f"{key}.relabel_open", shortcut="L", width="content", disabled=blocked,
                on_click=lambda: st.session_state.update({f"{card}.relabel_on": True}))
    st.button("Exclude", key=f"{key}.exclude", shortcut="X", width="content", disabled=blocked,
                on_click=_decide, args=(settings, key, view, pos, "Excluded",
                                        lambda store, m, who: decisions.exclude(store, row, reviewer=who,
                                                                                manifest=m)))
    _nav_buttons(settings, key, view, pos, blocked)


def _duplicate_buttons(settings: Settings, key: str, view: pd.DataFrame, pos: int, row: pd.Series, *,
                       blocked: bool, seen: dict[str, dict[str, str]] | None = None) -> None:
    with st.container(horizontal=True, gap="small"):
        _pair_buttons(settings, key, view, pos, row, blocked, seen)


def _pair_buttons(settings: Settings, key: str, view: pd.DataFrame, pos: int, row: pd.Series, blocked: bool,
                  seen: dict[str, dict[str, str]] | None = None) -> None:
    st.button("Accept: exclude this", key=f"{key}.accept", shortcut="A", type="primary", width="content",
                disabled=blocked, on_click=_decide,
                args=(settings, key, view, pos, "Accepted: excluded this copy",
                      lambda store, m, who: decisions.exclude_copy(store, row, "this", reviewer=who, manifest=m)))
    st.button("Keep both", key=f"{key}.keep", shortcut="K", width="content", disabled=blocked, on_click=_decide,
                args=(settings, key, view, pos, "Kept both",
                      lambda store, m, who: decisions.keep_both(store, row, reviewer=who, manifest=m)))
    st.button("Exclude the other", key=f"{key}.exclude_other", shortcut="O", width="content", disabled=blocked,
                on_click=_decide, args=(settings, key, view, pos, "Excluded the other copy",
                                        lambda store, m, who: decisions.exclude_copy(store, row, "other",
                                                                                     reviewer=who, manifest=m)))
    st.button("Relabel to match", key=f"{key}.match", shortcut="M", width="content", disabled=blocked,
                on_click=_decide, args=(settings, key, view, pos, "Relabelled this copy to match the other",
                                        lambda store, m, who: decisions.match_other(store, row, reviewer=who,
                                                                                    manifest=m, seen=seen)))
    _nav_buttons(settings, key, view, pos, blocked)


def _card_value(row: pd.Series, manifest, field: str) -> Any:
    """The value of ``field`` the card's image (or person) carries today: the form's default."""
    df = manifest.df
    if row["image_id"]:
        sel = df[df["image_id"] == row["image_id"]]
    else:
        sel = df[df["group_id"].astype(str) == str(row["person"])]
    return sel[field].iloc[0] if len(sel) else None


def _relabel_form(settings: Settings, card: str, view: pd.DataFrame, pos: int, row: pd.Series, manifest, *,
                  key: str) -> None:
    """Per card (its own widget keys), with the card's current values as defaults."""
    fields = [row["field"]] if row["field"] in manifest.fields else list(manifest.fields)
    field = st.selectbox("Field", fields, key=f"{card}.relabel_field")
    value_input(cache.manifest(settings), field, key=f"{card}.relabel_value.{field}",
                current=_card_value(row, manifest, field))
    seen = decisions.seen_values(row, manifest)  # the values this form was drawn with

    def _save() -> None:
        value = st.session_state.get(f"{card}.relabel_value.{field}")
        _decide(settings, key, view, pos, f"Relabelled {field} -> {value}",
                lambda store, m, who: decisions.relabel(store, row, field, value, reviewer=who, manifest=m,
                                                        seen=seen))

    st.button(f"Save {field}", key=f"{card}.relabel_save", type="primary", on_click=_save,
              disabled=not reviewer())


def queue_path_note(settings: Settings) -> str:
    return f"`labelscope suspects {Path(settings.dataset)}`"
