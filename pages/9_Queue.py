"""Queue: the ranked suspects, one at a time; accept, keep, relabel, exclude or skip with one key."""
import streamlit as st

from labelscope.ui import frame
from labelscope.ui import cache
from labelscope.ui import jobs as jobs_ui
from labelscope.ui.queue import queue_panel, queue_path_note, suspects

settings = frame("Queue", icon=":material/checklist:")
st.title("Review queue")
manifest = cache.usable_manifest(settings)
if suspects(settings) is None:
    people = "inconsistent people, " if manifest.person_fields else ""
    st.info("No suspects yet. Finding them scans the images and embeds them once (cached), then ranks likely "
            f"label errors, {people}duplicates and bad images. From a shell: {queue_path_note(settings)}")
    jobs_ui.find_suspects(settings)
    st.stop()
jobs_ui.queue_watch(settings)
st.caption("Keys: **A** accept · **K** keep · **L** relabel · **X** exclude · **S** skip · **B** back · "
           "**U** undo my last decision · duplicates: **O** exclude the other, **M** relabel to match · "
           "**View** opens an image at full resolution")
queue_panel(settings)
