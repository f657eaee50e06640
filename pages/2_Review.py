"""Review: filter the images, page through thumbnails, select, and record decisions."""
import streamlit as st

from labelscope.review import REVIEW_STATES, filter_choices, filter_labels
from labelscope.ui import cache, frame
from labelscope.ui.actions import selection_actions
from labelscope.ui.gallery import gallery, selection

settings = frame("Review", icon=":material/rate_review:")
st.title("Review")

original = cache.usable_manifest(settings)

f1, *more = st.columns(4)
classes = f1.multiselect("Class", original.classes, key="review.filter.classes")
attributes = {}
for col, (attr, title, options) in zip(more, filter_choices(original)):
    attributes[attr] = col.multiselect(title, options, key=f"review.filter.{attr}")
g1, g2, g3 = st.columns(3)
state = g1.selectbox("Review state", REVIEW_STATES, key="review.filter.state")
group = (g2.text_input("Person id" if original.person_fields else "Group", key="review.filter.person",
                       placeholder="all") if original.has_groups else "")  # no group filter without groups
search = g3.text_input("Image id contains", key="review.filter.search")
filters = dict(classes=classes, attributes=attributes, state=state, group=group.strip() or None,
               search=search.strip())


@st.fragment
def review_panel(filters: dict) -> None:
    current = cache.current_labels(settings)
    view = filter_labels(current.df, **filters)
    known = set(current.df["image_id"])
    left, right = st.columns([3, 1])
    with left:
        gallery(settings, view, key="review.gallery")
    with right:
        selection_actions(settings, current, [i for i in selection("review.gallery") if i in known],
                          key="review.actions", page="Review", total=len(view))


review_panel(filters)
