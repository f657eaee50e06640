"""Colours: per-group RGB or luminance histograms, their distances, mean images, colour outliers."""
import streamlit as st

from labelscope.ui import cache, frame
from labelscope.ui.eda_charts import distance_figure, histogram_figure
from labelscope.ui.actions import selection_actions
from labelscope.ui.gallery import gallery, md_escape, selection

settings = frame("Colours", icon=":material/palette:")
st.title("Colours")

manifest = cache.usable_manifest(settings)
if not cache.has_scan(settings):
    st.info("No scan yet: scan the dataset on the Overview page (or `labelscope scan DATASET`) to see its colours.")
    st.stop()

attrs = manifest.attributes + (["class_index"] if manifest.schema.factors else [])
c1, c2, c3, c4 = st.columns(4)
by = c1.selectbox("Group by", attrs, key="colours.by", format_func=lambda a: a.replace("_", " "))
arrangement = c2.radio("Layout", ["overlay", "small multiples"], key="colours.layout", horizontal=True)
mode = c3.radio("Channel", ["rgb", "luma"], key="colours.mode", horizontal=True,
                format_func=lambda m: {"rgb": "R, G, B", "luma": "luminance"}[m])
weight = c4.radio("Each image counts", ["image", "pixel"], key="colours.weight", horizontal=True,
                  format_func=lambda w: {"image": "the same", "pixel": "by its pixels"}[w],
                  help="'the same': every image's histogram is normalised before averaging.")

digest_ready = cache.mean_images(settings, by=by) is not None
if not digest_ready:
    st.caption("Luminance histograms and mean images need one pass over the thumbnails (decoded once, "
               "then cached in the workspace).")
    if st.button("Compute luminance and mean images", key="colours.digest", type="primary"):
        from labelscope.eda.colours import colour_digest

        bar = st.progress(0.0, text="Decoding thumbnails…")
        colour_digest(settings.workspace, progress=lambda d, t: bar.progress(d / max(t, 1), text=f"{d:,} / {t:,}"))
        cache.clear()
        st.rerun()
if mode == "luma" and not digest_ready:
    st.info("Compute the luminance digest first (button above); showing R, G, B meanwhile.")
    mode = "rgb"

view = cache.colour_view(settings, by=by, mode=mode, weight=weight)
hists = view["hists"]


st.subheader(f"Histograms by {by.replace('_', ' ')}")
st.plotly_chart(histogram_figure(hists, arrangement, mode), key="colours.hist", width="stretch")

st.subheader("How far apart the colour distributions are")
st.caption("1 - histogram intersection, averaged over channels: 0 = the same distribution, 1 = no overlap.")
d1, d2 = st.columns([3, 2])
d1.plotly_chart(distance_figure(view["distances"]), key="colours.distances", width="stretch")
d2.dataframe(view["nearest"], hide_index=True, width="stretch", key="colours.nearest",
             column_config={"distance": st.column_config.NumberColumn(format="%.3f"),
                            "mean_distance": st.column_config.NumberColumn(format="%.3f")})

st.subheader("Mean images")
means = cache.mean_images(settings, by=by)
if means is None:
    st.caption("Not computed yet (button above).")
else:
    cols = st.columns(min(6, max(1, len(means))))
    for k, (group, (img, n)) in enumerate(means.items()):
        cols[k % len(cols)].image(img, caption=f"{md_escape(group)} · {n:,} images", width="stretch")  # a label is text


@st.fragment
def outliers_panel() -> None:
    current = cache.current_labels(settings)
    out = view["outliers"]
    st.subheader("Colour outliers")
    st.caption(f"Images whose colours are farthest from their own {by.replace('_', ' ')}'s distribution; "
               "`nearest` is the group they match best.")
    groups = ["all"] + sorted(out["group"].unique().tolist())
    pick = st.selectbox("Group", groups, key="colours.outlier_group")
    rows = out if pick == "all" else out[out["group"] == pick]
    rows = rows.merge(current.df, on="image_id", how="left")
    left, right = st.columns([3, 1])
    with left:
        gallery(settings, rows, key="colours.gallery",
                caption=lambda r: f"{r['label']} · {r['distance']:.2f} → {r['nearest_group']}")
    with right:
        known = set(rows["image_id"])
        selection_actions(settings, current, [i for i in selection("colours.gallery") if i in known],
                          key="colours.actions", page="Colours", total=len(rows))


outliers_panel()
