"""Feeding: is the data loader or the model the bottleneck, by batch size, workers and order?"""
import os

import streamlit as st

from labelscope.ui import cache, frame
from labelscope.ui import feeding as ui_feed

settings = frame("Feeding", icon=":material/speed:")
st.title("Data feeding")
st.caption("However good the model, a loader that cannot keep up caps training speed. This page times the "
           "training loader alone (decode, transforms, collate) and the model alone (forward and backward on "
           "synthetic tensors of the same shape), then says which one limits each setting and by how much.")

manifest = cache.usable_manifest(settings)

cores = os.cpu_count() or 1
with st.form("feeding.form"):
    c1, c2, c3, c4 = st.columns(4)
    model = c1.selectbox("Model", ["small", "resnet18", "vgg16"], key="feeding.model")
    img_size = c2.number_input("Image size (px)", 16, 1024, 64, step=16, key="feeding.img_size")
    device = c3.selectbox("Device", ["auto", "cpu", "cuda"], key="feeding.device")
    batches = c4.number_input("Batches timed per setting", 1, 50, 2, key="feeding.batches")
    c5, c6, c7 = st.columns([2, 2, 1])
    batch_sizes = c5.multiselect("Batch sizes", [4, 8, 16, 32, 64, 128, 256], default=[16, 32],
                                 key="feeding.batch_sizes")
    workers = c6.multiselect("Loader workers", list(range(0, max(cores, 2) + 1)), default=[0, 1],
                             key="feeding.workers", help=f"This machine has {cores} cores.")
    decode = c7.radio("JPEG decode", ["reduced", "full"], key="feeding.decode",
                      help="reduced: training's loader, which lets the JPEG decoder shrink the image")
    o1, o2, o3, o4 = st.columns(4)
    orders = o1.checkbox("Compare transform orders", value=True, key="feeding.orders")
    decoders = o2.checkbox("Compare decode options", value=True, key="feeding.decoders")
    threads = o3.number_input("CPU threads for the model (0: all cores)", 0, 256, 0, key="feeding.threads",
                              help="As training's --threads; loader workers always use one thread each.")
    max_seconds = o4.number_input("Seconds per setting at most", 0.0, 600.0, 2.0, step=0.5,
                                  key="feeding.max_seconds",
                                  help="Stop timing a setting early (at least one batch is timed); 0: no limit.")
    submitted = st.form_submit_button("Measure", type="primary")

if submitted:
    if not batch_sizes or not workers:
        st.warning("Choose at least one batch size and one worker count.")
    else:
        from labelscope.feeding import feeding_report

        bar = st.progress(0.0, text="Measuring…")

        def _progress(done: int, total: int, what: str) -> None:
            bar.progress(done / max(total, 1), text=f"{done} / {total}: {what}")

        try:
            st.session_state["feeding.report"] = feeding_report(
                manifest, model=model, img_size=int(img_size), batch_sizes=batch_sizes, workers=workers,
                device=device, batches=int(batches), decode=decode, threads=int(threads),
                max_seconds=float(max_seconds) or None, workspace=settings.workspace,
                compare_orders=orders, compare_decode=decoders, progress=_progress)
        except ValueError as e:
            st.error(str(e))
        bar.empty()

report = st.session_state.get("feeding.report")
if report is None:
    st.info("Choose a setting and press **Measure** (the defaults take a few seconds).")
    st.stop()

cfg = report.config
st.caption(f"{cfg['images']:,} images · model {cfg['model']} at {cfg['img_size']} px on {cfg['device']} · "
           f"up to {cfg['batches']} batch(es) timed per setting after {cfg['warmup']} warm-up · {cfg['cpu_count']} cores")
best = report.best
if best is not None:
    m1, m2, m3 = st.columns(3)
    m1.metric("Best setting", f"batch {best.batch_size}, {best.workers} workers")
    m2.metric("Expected images/s", f"{best.expected_ips:,.1f}")
    m3.metric("Verdict", f"{best.bound}-bound", f"{best.factor:.1f}x", delta_color="off")

st.subheader("What to do")
for line in report.suggestions:
    st.markdown(f"- {line}")

st.subheader("Images per second by batch size")
st.plotly_chart(ui_feed.rates_figure(report), key="feeding.rates", width="stretch")
st.dataframe(ui_feed.verdict_table(report), hide_index=True, width="stretch", key="feeding.verdicts")

if report.orders is not None:
    o = report.orders
    st.subheader("Transform order")
    st.caption(f"Same images, same random angles, best of {o.repeats} passes. Ratio (first / second in time): "
               f"**{o.ratio:.2f}**; outputs of equal size: **{'yes' if o.same_size else 'no'}**.")
    st.dataframe(o.table, hide_index=True, width="stretch", key="feeding.orders_table")
if report.decode is not None:
    st.subheader("Decode options")
    st.dataframe(report.decode, hide_index=True, width="stretch", key="feeding.decode_table")
