"""Embeddings: a 2-D map of the images; box or lasso a region to see and fix what is in it."""
import streamlit as st

from labelscope.embed.view import (SCAN_EMBEDDERS, SUSPECT_SCORE, category_order, colour_options,
                                  default_feature_sets, is_numeric_colour, scatter_frame, selection_rows)
from labelscope.jobs import launch
from labelscope.ui import cache, frame
from labelscope.ui import jobs as jobs_ui
from labelscope.ui import embeddings as ui_emb
from labelscope.ui.actions import selection_actions
from labelscope.ui.gallery import gallery, selection, set_selection

settings = frame("Embeddings", icon=":material/scatter_plot:")
st.title("Embeddings")

original = cache.usable_manifest(settings)

avail = ui_emb.availability(str(settings.workspace))
done = ui_emb.computed(settings)
if not done and cache.has_scan(settings):
    ui_emb.quick_map(settings, original)
    done = ui_emb.computed(settings)

with st.expander("Compute embeddings", expanded=not set(done) - set(SCAN_EMBEDDERS)):  # open until a model's exist
    usable = [n for n, (ok, _) in avail.items() if ok]
    st.caption("Weights come from installed packages or files already on disk; nothing is downloaded. "
               "Not usable here: " + ("; ".join(f"**{n}**: {why}" for n, (ok, why) in avail.items() if not ok)
                                      or "none") + ".")
    c1, c2 = st.columns([3, 1])
    c1.selectbox("Embedder", usable, key="emb.compute.name",
                 index=usable.index("effnet") if "effnet" in usable else 0)
    with c2:
        jobs_ui.start_button(settings, "embed", "Compute", key="emb.compute.go", disabled=not usable,
                             start=lambda: launch.start_embed(settings, [st.session_state["emb.compute.name"]]))
jobs_ui.job_block(settings, "embed")

if not done:
    st.info("No embeddings yet: scan the dataset (Overview) for a first map from its colours, compute one "
            "above, or run `labelscope embed DATASET` (add `--embedder face` for the face descriptor).")
    st.stop()

current = cache.current_labels(settings)
scores = ui_emb.suspects(settings)
options = colour_options(original.attributes, has_suspects=scores is not None)
ui_emb.follow_default("emb.names", default_feature_sets(done))
c1, c2, c3 = st.columns([2, 1, 1])
names = c1.multiselect("Feature sets (several are z-scored and concatenated)", done, key="emb.names")
method = c2.radio("Projection", ["pca", "tsne", "umap"], horizontal=True, key="emb.method",
                  format_func={"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}.get)
colour_by = c3.selectbox("Colour by", options, key="emb.colour")
if not names:
    st.info("Choose at least one feature set.")
    st.stop()

emb = ui_emb.embedding(settings, names)
xy = ui_emb.projection(settings, emb, method, compute=False)
if xy is None:
    st.info(f"No {method.upper()} map of this feature set yet (it takes a while on large datasets).")
    if st.button(f"Compute the {method.upper()} map", key="emb.project.go", type="primary"):
        xy = ui_emb.projection(settings, emb, method, compute=True)
    else:
        st.stop()

points = scatter_frame(xy, current.df, colour_by, scores=scores)
numeric = is_numeric_colour(points)
fig = ui_emb.scatter_figure(points, colour_title=colour_by, numeric=numeric,
                            order=None if numeric else category_order(points["colour"]))
st.caption(f"{len(points):,} images · {emb.name} ({emb.dim}-d) · {method.upper()} · "
           f"box or lasso select points to review them"
           + (f" · {len(emb.missing)} unreadable images not shown" if emb.missing else "")
           + (" · suspect score: low = more suspicious" if colour_by == SUSPECT_SCORE else ""))
st.plotly_chart(fig, key=ui_emb.CHART_KEY, on_select=ui_emb.store_selection, selection_mode=("box", "lasso"),
                width="stretch")


@st.fragment
def selection_panel() -> None:
    labels = cache.current_labels(settings)
    view = selection_rows(labels.df, st.session_state.get(ui_emb.MAP_KEY, []))
    shown = view["image_id"].tolist()
    if not shown:
        st.markdown("**0 images in the map selection**")
        st.caption("Select points on the map (box or lasso) to see their thumbnails here; then tick the "
                   "images to act on (or Select all).")
        return
    ticked = [i for i in selection("emb.gallery") if i in set(shown)]
    set_selection("emb.gallery", ticked)  # ticks outside the current map selection are dropped
    st.markdown(f"**{len(shown):,} images in the map selection** · tick the ones to act on")
    left, right = st.columns([3, 1])
    with left:
        gallery(settings, view, key="emb.gallery")
    with right:
        selection_actions(settings, labels, ticked, key="emb.actions", page="Embeddings", total=len(shown))


selection_panel()
