"""The Person view: one person's photos side by side, their attributes, one-click fixes.

Mask layout: set gender, age or race for all of the person's photos at once, or swap the
``incorrect`` and ``not_wear`` photos' mask labels. Other layouts: the group's images and one
``label`` for all of them. Drawn as an ``st.fragment``: a click reruns only this panel.
"""
from __future__ import annotations

import streamlit as st

from ..config import Settings
from ..review import person_attributes, person_rows
from . import cache
from .actions import run_action, show_message, undo_action, value_input
from .frame import reviewer
from .gallery import md_escape, thumbnail
from .viewer import view_button, viewer


def _set_field(settings: Settings, key: str, group_id: str, field: str, seen: dict[str, str]) -> None:
    value = st.session_state.get(value_key(key, group_id, field))
    run_action(settings, key, f"Set {field} = {value} for {group_id}",
               lambda store, m, name: store.relabel_person(group_id, field, value, reviewer=name, manifest=m,
                                                           expected_old=seen))


def value_key(key: str, group_id: str, field: str) -> str:
    """Widget key of the new-value input (per person, so it starts at that person's value)."""
    return f"{key}.value.{field}.{group_id}"


def _swap(settings: Settings, key: str, group_id: str, seen: dict[str, str]) -> None:
    """The swap of the photos as the reviewer saw them (refused when someone changed one since)."""
    run_action(settings, key, f"Swap incorrect/normal of {group_id}",
               lambda store, m, name: store.swap_masks(group_id, reviewer=name, manifest=m, seen=seen))


def _undo(settings: Settings, key: str) -> None:
    undo_action(settings, key)


def _caption(row, field: str) -> str:
    marks = "".join(m for col, m in (("flagged", "⚑"), ("changed", "✎"), ("excluded", "⊘")) if bool(row[col]))
    name = str(row["image_id"]).rsplit("/", 1)[-1]
    value = row[field]
    return f"{marks} {name} · {value}".strip()


@st.fragment
def person_panel(settings: Settings, group_id: str, *, key: str = "person") -> None:
    """Photos, attributes and fixes of one person / group (see the module docstring)."""
    current = cache.current_labels(settings)
    schema = current.schema
    rows = person_rows(current.df, group_id)
    if rows.empty:
        st.warning(f"No image has group {md_escape(repr(group_id))}.")
        return
    thumbs = cache.thumbs(settings, rows["image_id"].tolist())
    if not thumbs:
        st.info("No thumbnails yet: run a scan (Overview page, or `labelscope scan DATASET`) to see the pictures.")
    per_row = 7
    for r0 in range(0, len(rows), per_row):
        chunk = rows.iloc[r0:r0 + per_row]
        for cell, (_, row) in zip(st.columns(per_row), chunk.iterrows()):
            with cell:
                thumbnail(settings, row["image_id"], thumbs.get(row["image_id"]))
                st.caption(md_escape(_caption(row, schema.image_field)))
                view_button(row["image_id"], rows["image_id"].tolist(), key=f"{key}.view.{row['image_id']}",
                            owner=key)

    fields = current.person_fields or [schema.image_field]
    attrs = person_attributes(rows, fields)
    shown = st.columns(len(fields) + 1)
    shown[0].metric("Photos", len(rows))
    for col, f in zip(shown[1:], fields):
        value, agree = attrs[f]
        col.metric(f.capitalize(), value)
        if not agree:
            col.caption(":orange[photos disagree]")
    if not reviewer():
        st.warning("Enter your reviewer name in the sidebar to record decisions.")
    blocked = not reviewer()
    fix_cols = st.columns(len(fields))
    for col, f in zip(fix_cols, fields):
        with col:
            value_input(cache.manifest(settings), f, key=value_key(key, group_id, f), current=attrs[f][0])
            seen = dict(zip(rows["image_id"], rows[f].astype(str)))
            st.button(f"Set {f} for all {len(rows)}", key=f"{key}.set.{f}", on_click=_set_field,
                      args=(settings, key, group_id, f, seen), disabled=blocked, width="stretch")
    b1, b2 = st.columns(2)
    if schema.can_swap_masks:
        seen_masks = dict(zip(rows["image_id"], rows["mask"].astype(str)))
        b1.button("Swap incorrect ↔ normal", key=f"{key}.swap", on_click=_swap,
                  args=(settings, key, group_id, seen_masks),
                  disabled=blocked, width="stretch")
    b2.button("Undo my last action", key=f"{key}.undo", on_click=_undo, args=(settings, key),
              disabled=blocked, width="stretch")
    show_message(key)
    viewer(settings, owner=key)
