"""Training: the runs imported into the workspace, their scores, learning curves and confusion matrix."""
import streamlit as st

from labelscope.train import report
from labelscope.ui import frame
from labelscope.ui import jobs as jobs_ui
from labelscope.ui import training as runs_cache

settings = frame("Training", icon=":material/model_training:")
st.title("Training")

runs = runs_cache.runs(settings)
with st.expander("Train a model", expanded=runs.empty):
    jobs_ui.training_form(settings)
jobs_ui.training_watch(settings)
if runs.empty:
    st.info("No training run in this workspace yet: start one above, or export the labels and train, e.g.:")
    st.code(f"labelscope export {settings.dataset} --out export\n"
            f"labelscope train export/labels.csv --dataset {settings.dataset} --out runs/small \\\n"
            f"    --model small --img-size 64 --folds 2 --epochs 1 --workspace {settings.workspace}",
            language="bash")
    st.stop()

st.subheader("Runs")
st.dataframe(runs.drop(columns="path"), hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f")
                            for c in ("macro_f1", "accuracy", "f1_mask", "f1_gender", "f1_age_group")})

run = st.selectbox("Run", runs["run"].tolist(), key="training.run")
metrics = runs_cache.metrics(settings, run)
h = report.headline(metrics)

cols = st.columns(4)
cols[0].metric("Out-of-fold macro-F1", f"{h['macro_f1']:.3f}")
cols[1].metric("Accuracy", f"{h['accuracy']:.3f}")
cols[2].metric("Images predicted", f"{h['predicted']:,}",
               help=f"{h['excluded']} excluded by reviewers, {h['skipped']} unreadable")
cols[3].metric("Train speed", f"{h['train_images_per_s']:.0f} img/s", help=f"device {h['device']}")
if "f1_mask" in h:
    cols = st.columns(3)
    cols[0].metric("Mask F1", f"{h['f1_mask']:.3f}")
    cols[1].metric("Gender F1", f"{h['f1_gender']:.3f}")
    cols[2].metric("Age group F1", f"{h['f1_age_group']:.3f}")
st.caption(f"{h['folds']} folds × {h['epochs']} epochs · weights: {h['weights']}")

st.subheader("Learning curves")
st.plotly_chart(report.curve_figure(metrics), key="training.curves", width="stretch")

st.subheader("Confusion matrix (out of fold)")
normalise = st.toggle("Share of each given class", value=True, key="training.normalise")
st.plotly_chart(report.confusion_figure(runs_cache.confusion(settings, run), normalise=normalise),
                key="training.confusion", width="stretch")

with st.expander("Per-class F1 and configuration"):
    st.dataframe(report.per_class_f1(metrics), hide_index=True, width="stretch")
    st.json(metrics.get("config", {}), expanded=False)
