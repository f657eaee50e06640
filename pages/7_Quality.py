"""Quality: dark, bright, flat, blurry, tiny, odd-shaped, grayscale and unreadable images; duplicates."""
import streamlit as st

from labelscope.eda import FLAG_HELP, FLAGS, QualityThresholds, flag_counts
from labelscope.ui import cache, frame
from labelscope.ui.eda_charts import counts_figure
from labelscope.ui.actions import selection_actions
from labelscope.ui.gallery import gallery, selection

settings = frame("Quality", icon=":material/high_quality:")
st.title("Quality")

manifest = cache.usable_manifest(settings)
if not cache.has_scan(settings):
    st.info("No scan yet: scan the dataset on the Overview page (or `labelscope scan DATASET`) to check quality.")
    st.stop()

# -- unreadable files first: they are listed, never a crash -----------------------------------
bad = cache.unreadable(settings)
if len(bad):
    st.error(f"{len(bad):,} unreadable file(s): the scan could not decode them.")
    st.dataframe(bad, hide_index=True, width="stretch", key="quality.unreadable")
else:
    st.success("Every image could be decoded.")

# -- thresholds, visible and adjustable ---------------------------------------------------------
st.subheader("Thresholds")
d = QualityThresholds()
t1, t2, t3 = st.columns(3)
dark = t1.slider("Dark: mean luminance below", 0, 255, int(d.dark), key="quality.dark")
bright = t1.slider("Bright: mean luminance above", 0, 255, int(d.bright), key="quality.bright")
flat = t2.slider("Low contrast: luminance std below", 0.0, 100.0, float(d.low_contrast), 1.0, key="quality.low_contrast")
blurry = t2.slider("Blurry: Laplacian variance below", 0.0, 500.0, float(d.blurry), 5.0, key="quality.blurry")
tiny = t3.slider("Tiny: shorter side below (px)", 0, 1024, int(d.tiny), 8, key="quality.tiny")
aspect = t3.slider("Odd aspect: width/height beyond", 1.0, 6.0, float(d.odd_aspect), 0.1, key="quality.odd_aspect",
                   help="Flags width/height above this or below its inverse.")
thresholds = QualityThresholds(dark=dark, bright=bright, low_contrast=flat, blurry=blurry, tiny=tiny,
                               odd_aspect=aspect)
flags = cache.quality_flags(settings, thresholds)
counts = flag_counts(flags)


st.plotly_chart(counts_figure(counts), key="quality.counts", width="stretch")
with st.expander("What each flag means"):
    for f in FLAGS:
        st.markdown(f"- **{f.replace('_', ' ')}**: {FLAG_HELP[f]}")


@st.fragment
def flagged_panel() -> None:
    st.subheader("Flagged images")
    chosen = st.multiselect("Show images flagged", [f for f in FLAGS if f != "unreadable"],
                            default=[f for f in FLAGS if f != "unreadable"], key="quality.show",
                            format_func=lambda f: f.replace("_", " "))
    current = cache.current_labels(settings)
    hit = flags[flags[chosen].any(axis=1)] if chosen else flags.iloc[0:0]
    rows = hit[["image_id", "reasons"]].merge(current.df, on="image_id", how="inner")
    left, right = st.columns([3, 1])
    with left:
        gallery(settings, rows, key="quality.gallery", caption=lambda r: f"{r['label']} · {r['reasons']}")
    with right:
        known = set(rows["image_id"])
        selection_actions(settings, current, [i for i in selection("quality.gallery") if i in known],
                          key="quality.actions", page="Quality (flagged)", total=len(rows))


flagged_panel()


@st.fragment
def duplicates_panel() -> None:
    st.subheader("Duplicates")
    st.caption("Exact copies share their bytes (SHA-1); near copies differ in at most the chosen number of "
               "perceptual-hash bits. Groups whose labels differ come first: each is a certain label problem.")
    current = cache.current_labels(settings)
    c1, c2, c3 = st.columns(3)
    fields = ["label"] + [f for f in manifest.attributes if f != "label"]
    label = c1.selectbox("Compare", fields, key="quality.dup_label", format_func=lambda f: f.replace("_", " "))
    distance = c2.slider("Near: pHash bits apart at most", 0, 12, 4, key="quality.dup_distance")
    same = c3.checkbox("Ignore near copies within one person" if manifest.person_fields
                       else "Ignore near copies within one group", value=True, key="quality.dup_skip_group",
                       help="A person's photos look alike by design." if manifest.person_fields
                       else "A group's images look alike by design.") if manifest.has_groups else False
    dups = cache.duplicates(settings, label=label, max_distance=distance, skip_same_group=same)
    groups = dups.groups
    if dups.truncated:
        st.warning("So many near pairs that only the first were grouped: lower the distance.")
    exact, near = groups[groups["kind"] == "exact"], groups[groups["kind"] == "near"]
    m1, m2, m3 = st.columns(3)
    m1.metric("Exact duplicate groups", f"{len(exact):,}")
    m2.metric("Near duplicate groups", f"{len(near):,}")
    m3.metric("Groups with different labels", f"{int(groups['labels_differ'].sum()):,}")
    if not len(groups):
        st.success("No duplicates at this distance.")
        return
    event = st.dataframe(groups, hide_index=True, width="stretch", key="quality.dup_groups",
                         on_select="rerun", selection_mode="single-row",
                         column_order=["kind", "size", "labels_differ", "labels", "max_distance", "first_image"])
    picked = event.selection.rows if event is not None and hasattr(event, "selection") else []
    group = int(groups.iloc[picked[0] if picked else 0]["group"])
    members = dups.members[dups.members["group"] == group][["image_id", "distance"]]
    rows = members.merge(current.df, on="image_id", how="inner")
    st.caption(f"Group {group}: {len(rows)} images (pick a row above to see another group).")
    left, right = st.columns([3, 1])
    with left:
        gallery(settings, rows, key="quality.dup_gallery", page_size=12,
                caption=lambda r: f"{r[label]} · {int(r['distance'])} bits")
    with right:
        known = set(rows["image_id"])
        selection_actions(settings, current, [i for i in selection("quality.dup_gallery") if i in known],
                          key="quality.dup_actions", page="Quality (duplicates)", total=len(rows))


duplicates_panel()
