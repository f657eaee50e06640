"""Person: all photos of one person (or group) side by side; fix the person in one click."""
import streamlit as st

from labelscope.ui import cache, frame
from labelscope.review import group_ids
from labelscope.ui.person import person_panel

settings = frame("Person", icon=":material/person:")
original = cache.manifest(settings)
people = original.schema.groups_are_people
st.title("Person" if people else "Group")
original = cache.usable_manifest(settings)
groups = group_ids(original)
if not groups:
    st.info("This dataset has no groups: its images are reviewed one by one on the Review page.")
    st.stop()

if st.session_state.get("person.current") not in groups:
    st.session_state["person.current"] = groups[0]
st.session_state["person.pick"] = st.session_state["person.current"]


def _pick() -> None:
    st.session_state["person.current"] = st.session_state["person.pick"]


def _step(delta: int) -> None:
    i = groups.index(st.session_state["person.current"])
    st.session_state["person.current"] = groups[(i + delta) % len(groups)]


c1, c2, c3 = st.columns([4, 1, 1], vertical_alignment="bottom")
c1.selectbox("Person id" if people else "Group", groups, key="person.pick", on_change=_pick)
c2.button("Previous", key="person.prev", on_click=_step, args=(-1,), width="stretch")
c3.button("Next", key="person.next", on_click=_step, args=(1,), width="stretch")

person_panel(settings, st.session_state["person.current"], key="person")
