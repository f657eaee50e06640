"""Export: what changed and by whom, then the corrected label files."""

import streamlit as st

from labelscope.review import ReviewError, export_labels, export_tree, inconsistent_persons
from labelscope.review.export import last_export
from labelscope.ui import cache, frame
from labelscope.ui.gallery import plain
from labelscope.workspace import Workspace

settings = frame("Export", icon=":material/download:")
st.title("Export")
original = cache.usable_manifest(settings)

store = cache.review_store(settings)
current = cache.current_labels(settings)
df = current.df
m1, m2, m3, m4 = st.columns(4)
m1.metric("Images changed", f"{int(df['changed'].sum()):,}")
m2.metric("Excluded", f"{int(df['excluded'].sum()):,}")
m3.metric("Flagged", f"{int(df['flagged'].sum()):,}")
m4.metric("Decisions recorded", f"{store.version():,}")

st.subheader("What changed")
diff = store.changes(original)
if diff.empty:
    st.info("No label differs from the dataset on disk yet.")
else:
    st.caption(f"{len(diff):,} field change(s) on {diff['image_id'].nunique():,} image(s); "
               "reviewer = who made the latest change of that field.")
    st.dataframe(diff.groupby(["reviewer", "field"]).size().rename("changes").reset_index(),
                 hide_index=True, key="export.by_reviewer")
    st.dataframe(diff, hide_index=True, width="stretch", key="export.diff")

odd = inconsistent_persons(current)
if len(odd):
    st.warning(f"{odd['group_id'].nunique():,} person(s) left inconsistent: their photos disagree on a person "
               "field. train.csv and the tree carry each one's most common value; fix them on the Person page.")
    st.dataframe(odd, hide_index=True, width="stretch", key="export.inconsistent")

st.subheader("Files")
out = Workspace(settings.workspace).exports
st.caption(f"Written to `{out}`: labels.csv (one row per image)"
           + original.schema.export_note
           + " and summary.json.")
if st.button("Export corrected labels", key="export.run", type="primary"):
    try:
        result = export_labels(original, store, out)
        st.success(f"Exported {result.rows:,} images ({result.changed:,} changed, {result.excluded:,} excluded; "
                   f"decisions up to #{result.last_event_id}).")
    except (ReviewError, OSError) as e:
        st.error(f"Export failed, previous files kept: {plain(e)}")

last = last_export(out, store.version())
if last is not None:
    if last.stale:
        st.warning("Decisions were recorded after this export: export again to include them.")
    cols = st.columns(3)
    for col, (name, path) in zip(cols, last.files.items()):
        col.download_button(f"Download {name}", data=path.read_bytes(), file_name=name,
                            mime="application/json" if name.endswith(".json") else "text/csv",
                            key=f"export.download.{name}", width="stretch")
    with st.expander("summary.json"):
        st.json(last.summary)
else:
    st.caption("No export yet.")

st.subheader("Corrected dataset")
st.caption("The dataset itself in its own layout, with every fix applied and excluded images left out"
           + original.schema.tree_note
           + ". Files are hard links to the source images (copies across disks); the source is never written.")
tree_dir = st.text_input("Folder", value=str(Workspace(settings.workspace).exports / "tree"), key="export.tree_dir")
if st.button("Write corrected dataset", key="export.tree", type="primary"):
    try:
        tree = export_tree(original, store, tree_dir)
        st.session_state["export.tree_result"] = (
            "success", f"Wrote {tree.images:,} images to {tree.out_dir} ({tree.linked:,} hard links, "
                       f"{tree.copied:,} copies; {tree.excluded:,} excluded left out; decisions up to "
                       f"#{tree.last_event_id}).", tree.left_out)
    except (ReviewError, OSError) as e:
        st.session_state["export.tree_result"] = ("error", f"Writing the tree failed, nothing replaced: {e}", [])
res = st.session_state.get("export.tree_result")
if res:
    (st.success if res[0] == "success" else st.error)(plain(res[1]))
    for image_id, why in res[2]:
        st.caption(f"Left out {plain(image_id)}: {plain(why)}")
