"""The app's background jobs: the command line of each, built from the app's Settings.

Every launcher returns the started :class:`JobState` (or raises ``JobBusy``); the job itself
is the ordinary ``labelscope`` command, so the app and the CLI do the same work.

    from labelscope.jobs import launch
    launch.start_suspects(settings)
    launch.start_training(settings, model="small", img_size=64, folds=2, epochs=1, head_epochs=0)
    launch.start_rerank_if_due(settings, review_version=store.version())
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..config import Settings
from ..workspace import Workspace
from . import runner
from .state import JobState

RERANK_BATCH = 10  # decisions after which the app re-ranks the suspects in the background


def dataset_args(settings: Settings) -> list[str]:
    """``DATASET --workspace WS --layout L`` for a command run on the app's dataset."""
    return [str(settings.dataset), "--workspace", str(settings.workspace), "--layout", settings.layout]


def suspects_argv(settings: Settings) -> list[str]:
    return ["suspects", *dataset_args(settings)]  # the table goes to the workspace (the Queue's cache)


def start_suspects(settings: Settings, *, review_version: int | None = None) -> JobState:
    """Scan and embed what is missing, then rank the suspects (the Queue's table)."""
    info = {} if review_version is None else {"review_version": int(review_version)}
    return runner.start(settings.workspace, "suspects", suspects_argv(settings), info=info)


def start_faces(settings: Settings, *, detector: str = "yunet", yunet_model: str | None = None,
                force: bool = False) -> JobState:
    """Face boxes for every image not detected yet (all with ``force``)."""
    argv = ["faces", *dataset_args(settings), "--detector", detector]
    if yunet_model:
        argv += ["--yunet-model", yunet_model]
    if force:
        argv.append("--force")
    return runner.start(settings.workspace, "faces", argv)


def start_embed(settings: Settings, names: Sequence[str]) -> JobState:
    """The embeddings ``names`` (cached; a rerun embeds only new or changed images)."""
    argv = ["embed", *dataset_args(settings)]
    for n in names:
        argv += ["--embedder", n]
    return runner.start(settings.workspace, "embed", argv)


def start_training(settings: Settings, *, model: str = "effnet", img_size: int = 128, folds: int = 5,
                   epochs: int | None = None, head_epochs: int | None = None, name: str | None = None,
                   extra: Sequence[str] = ()) -> JobState:
    """Export today's labels, then train on them in the background and import the run.

    The run goes to ``WS/runs/<name>/`` (its labels in ``labels/``); ``metrics.json`` and the
    out-of-fold predictions are imported into the workspace when it ends, and, when the
    workspace has suspects already, a suspects job follows that ranks them with the run's
    out-of-fold predictions.
    """
    from ..dataset import load_dataset
    from ..review import export_labels, open_review_store

    ws = Workspace(settings.workspace)
    name = name or datetime.now(timezone.utc).strftime("app-%Y%m%d-%H%M%S")
    run_dir = ws.root / "runs" / name
    exported = export_labels(load_dataset(settings.dataset, settings.layout), open_review_store(settings),
                             run_dir / "labels")
    argv = ["train", str(exported.files["labels.csv"]), "--dataset", str(settings.dataset), "--out", str(run_dir),
            "--model", model, "--img-size", str(int(img_size)), "--folds", str(int(folds)),
            "--workspace", str(ws.root), "--name", name, "--no-progress"]
    argv += [] if epochs is None else ["--epochs", str(int(epochs))]              # None: the command's defaults
    argv += [] if head_epochs is None else ["--head-epochs", str(int(head_epochs))]
    argv += list(extra)
    then = [("suspects", suspects_argv(settings))] if ws.suspects.exists() else []
    return runner.start(ws.root, "train", argv, info={"run_dir": str(run_dir), "run": name}, then=then)


def ranked_at_version(settings: Settings) -> int:
    """The review-store version the newest suspects ranking (or attempt) saw; 0 when unknown."""
    last = runner.read(settings.workspace, "suspects")
    return int(last.info.get("review_version", 0)) if last is not None else 0


def rerank_due(settings: Settings, review_version: int, *, batch: int = RERANK_BATCH) -> bool:
    """True when ``batch`` decisions were made since the suspects were ranked and no ranking runs.

    Only re-ranks an existing table (the first ranking is asked for explicitly).
    """
    if not Workspace(settings.workspace).suspects.exists():
        return False
    last = runner.read(settings.workspace, "suspects")
    if last is not None and last.active:
        return False
    return review_version - ranked_at_version(settings) >= batch


def start_rerank_if_due(settings: Settings, review_version: int, *, batch: int = RERANK_BATCH
                        ) -> JobState | None:
    """Start the background re-ranking when :func:`rerank_due`; the started job, else None."""
    if not rerank_due(settings, review_version, batch=batch):
        return None
    try:
        return start_suspects(settings, review_version=review_version)
    except runner.JobBusy:
        return None


def run_progress(state: JobState | None) -> dict[str, Any]:
    """Where a training job writes: ``{"run_dir": Path, "run": name}`` ({} for other jobs)."""
    if state is None or "run_dir" not in state.info:
        return {}
    return {"run_dir": Path(state.info["run_dir"]), "run": state.info.get("run", "")}
