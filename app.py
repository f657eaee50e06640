"""labelscope: the home page (Overview) and the entry point ``streamlit run app.py``.

    streamlit run app.py -- --dataset data/demo      # or LABELSCOPE_DATASET=...
"""
import streamlit as st

from labelscope.eda.summary import class_balance, imbalance_ratio, readable_split, summarize, suspect_counts
from labelscope.ui import frame
from labelscope.ui import cache
from labelscope.ui import jobs as jobs_ui
from labelscope.ui.eda_charts import balance_figure, file_size_figure, image_size_figure
from labelscope.ui.queue import suspects as queue_suspects

settings = frame("Overview", icon=":material/dashboard:")
st.title("Overview")

manifest = cache.manifest(settings)
if manifest.errors:
    st.error("This dataset cannot be used as it is:")
    st.dataframe(manifest.problems_frame(), hide_index=True, width="stretch")
    st.stop()

summary = summarize(manifest)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Images", f"{summary.images:,}")
if manifest.has_groups:  # a layout without groups shows no "Groups 0"
    c2.metric("People" if manifest.person_fields else "Groups", f"{summary.groups:,}")
c3.metric("Classes", summary.classes)
c4.metric("Validation warnings", summary.warnings)

st.subheader("Where the dataset is sick")
suspects = queue_suspects(settings)
if suspects is None:
    people = "inconsistent people, " if manifest.person_fields else ""
    st.info("No suspects ranked yet: **Find suspects now** (or `labelscope suspects DATASET`) ranks likely "
            f"label errors, {people}duplicates and bad images, in the background.")
    jobs_ui.find_suspects(settings, key="overview")
else:
    jobs_ui.job_block(settings, "suspects", title="Re-ranking the suspects", ended=False)
    counts = suspect_counts(suspects)
    cols = st.columns(min(len(counts), 6) or 1)
    for col, row in zip(cols, counts.head(6).itertuples()):
        col.metric(f"{row.issue} · {row.field}" if row.field else row.issue, f"{row.items:,}")
    st.page_link("pages/9_Queue.py", label=f"Review the {len(suspects):,} suspects in the Queue",
                 icon=":material/checklist:")

if manifest.person_fields:
    from labelscope.review import inconsistent_persons

    odd = inconsistent_persons(cache.current_labels(settings))
    if len(odd):
        st.warning(f"{odd['group_id'].nunique():,} person(s) left inconsistent: their photos disagree on "
                   "gender, age or race. Exports carry each one's most common value.")
        st.dataframe(odd, hide_index=True, width="stretch", key="overview.inconsistent")

st.subheader("Class balance")
attrs = manifest.attributes
tabs = st.tabs([a.replace("_", " ") for a in attrs])
for tab, attr in zip(tabs, attrs):
    with tab:
        bal = class_balance(manifest, attr)
        st.plotly_chart(balance_figure(bal), key=f"balance_{attr}", width="stretch")
        st.caption(f"Largest / smallest class: {imbalance_ratio(bal):.1f}x")

st.subheader("Images")
feats = cache.features(settings)
if feats is None:
    st.info("No scan yet: the scan decodes every image once and caches its size, colours, "
            "quality and thumbnail in the workspace.")
    if st.button("Scan", key="overview.scan", type="primary"):
        from labelscope.scan import scan_dataset

        bar = st.progress(0.0, text="Scanning…")

        def _progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=f"Scanned {done:,} / {total:,} images")

        result = scan_dataset(settings.dataset, settings.workspace, layout=settings.layout,
                              workers=settings.workers, progress=_progress, manifest=manifest)
        cache.clear()
        st.success(f"Scanned {result.total:,} images in {result.seconds:.1f} s "
                   f"({result.unreadable} unreadable).")
        st.rerun()
else:
    ok, bad = readable_split(feats)
    s1, s2 = st.columns(2)
    s1.plotly_chart(image_size_figure(ok), key="sizes", width="stretch")
    s2.plotly_chart(file_size_figure(ok), key="filesizes", width="stretch")
    if len(bad):
        st.warning(f"{len(bad)} unreadable image(s): they stay in the dataset table but no feature exists for them.")
        st.dataframe(bad, hide_index=True, width="stretch", key="unreadable")

st.subheader("Validation problems")
if manifest.problems:
    st.dataframe(manifest.problems_frame(), hide_index=True, width="stretch", key="problems")
else:
    st.success("No validation problems.")
