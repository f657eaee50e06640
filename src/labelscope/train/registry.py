"""Training runs known to a workspace: import, list, load (pandas/pyarrow only, no torch).

A run imported with ``labelscope predictions import RUN_DIR --workspace WS`` lives in
``WS/predictions/<run>/`` with ``predictions.parquet``, ``metrics.json``, ``confusion.csv``
and ``folds.csv`` (checkpoints stay in RUN_DIR).

>>> runs = list_runs(ws)                        # newest first, with their headline metrics
>>> df = load_predictions(ws)                   # the newest run's out-of-fold predictions
>>> P = pred_probs_matrix(df); df.attrs["classes"]
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workspace import Workspace, atomic_write

RUN_FILES = ("predictions.parquet", "metrics.json", "confusion.csv", "folds.csv")
LIST_COLUMNS = ["run", "finished", "model", "img_size", "folds", "epochs", "predicted", "macro_f1", "accuracy",
                "f1_mask", "f1_gender", "f1_age_group", "device", "train_images_per_s", "path"]


def _ws(workspace: Workspace | str | os.PathLike[str]) -> Workspace:
    return Workspace.of(workspace)


def _safe_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    if not clean:
        raise ValueError(f"run name {name!r} has no usable characters")
    return clean


def import_predictions(run_dir: str | os.PathLike[str], workspace: Workspace | str | os.PathLike[str], *,
                       name: str | None = None) -> Path:
    """Copy a run's predictions and metrics into ``workspace.predictions/<name>/`` (atomic per file).

    ``name`` defaults to the run's own name (metrics.json ``run``) or its folder name.
    Importing the same run again refreshes the copy. Returns the destination folder.
    """
    src = Path(run_dir).expanduser().resolve()
    for f in ("predictions.parquet", "metrics.json"):
        if not (src / f).is_file():
            raise FileNotFoundError(f"{src}: no {f}; is this the RUN_DIR of a finished `labelscope train`?")
    meta = json.loads((src / "metrics.json").read_text(encoding="utf-8"))
    dest = _ws(workspace).predictions / _safe_name(name or meta.get("run") or src.name)
    dest.mkdir(parents=True, exist_ok=True)
    if dest.resolve() == src:
        return dest
    for f in RUN_FILES:
        if (src / f).is_file():
            atomic_write(dest / f, lambda p, s=src / f: shutil.copyfile(s, p))
    return dest


def _read_metrics(run_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def list_runs(workspace: Workspace | str | os.PathLike[str]) -> pd.DataFrame:
    """One row per imported run, newest first (columns in ``LIST_COLUMNS``); empty when none."""
    root = _ws(workspace).predictions
    rows = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        m = _read_metrics(d) if (d / "predictions.parquet").is_file() else None
        if m is None:
            continue
        cfg, oof, speed = m.get("config", {}), m.get("oof", {}), m.get("speed", {})
        rows.append({
            "run": d.name, "finished": m.get("finished", ""), "model": cfg.get("model"),
            "img_size": cfg.get("img_size"), "folds": m.get("folds"), "epochs": m.get("epochs"),
            "predicted": m.get("predicted"), "macro_f1": oof.get("macro_f1"), "accuracy": oof.get("accuracy"),
            "f1_mask": oof.get("f1_mask"), "f1_gender": oof.get("f1_gender"), "f1_age_group": oof.get("f1_age_group"),
            "device": speed.get("device"), "train_images_per_s": speed.get("train_images_per_s"), "path": str(d),
        })
    df = pd.DataFrame(rows, columns=LIST_COLUMNS)
    return df.sort_values(["finished", "run"], ascending=False, kind="stable").reset_index(drop=True)


def run_dir(workspace: Workspace | str | os.PathLike[str], run: str | None = None) -> Path:
    """The folder of ``run`` (the newest run when None); FileNotFoundError when there is none."""
    runs = list_runs(workspace)
    if runs.empty:
        raise FileNotFoundError(f"{_ws(workspace).predictions}: no training run imported yet "
                                "(run `labelscope train ... --workspace WS` or `labelscope predictions import`)")
    if run is None:
        return Path(runs["path"].iloc[0])
    hit = runs.loc[runs["run"] == run]
    if hit.empty:
        raise FileNotFoundError(f"no run named {run!r}; known runs: {', '.join(runs['run'])}")
    return Path(hit["path"].iloc[0])


def read_predictions(run_dir_: str | os.PathLike[str]) -> pd.DataFrame:
    """``predictions.parquet`` of a RUN_DIR (or imported run folder).

    ``df.attrs`` carries ``run``, ``classes`` (index order of ``pred_probs``) and ``path``.
    """
    d = Path(run_dir_)
    df = pd.read_parquet(d / "predictions.parquet")
    m = _read_metrics(d) or {}
    df.attrs.update({"run": m.get("run", d.name), "classes": list(m.get("classes", [])), "path": str(d)})
    return df


def load_predictions(workspace: Workspace | str | os.PathLike[str], run: str | None = None) -> pd.DataFrame:
    """Out-of-fold predictions of ``run`` (default: the newest run) in the workspace."""
    return read_predictions(run_dir(workspace, run))


def load_metrics(workspace: Workspace | str | os.PathLike[str], run: str | None = None) -> dict[str, Any]:
    d = run_dir(workspace, run)
    return _read_metrics(d) or {}


def load_confusion(workspace: Workspace | str | os.PathLike[str], run: str | None = None) -> pd.DataFrame:
    """Confusion matrix (rows = given class, columns = predicted), labelled by class name."""
    return pd.read_csv(run_dir(workspace, run) / "confusion.csv", index_col=0)


def history_frame(metrics: dict[str, Any]) -> pd.DataFrame:
    """Per-epoch history (one row per fold and epoch) from a metrics dict."""
    return pd.DataFrame(metrics.get("history", []))


def pred_probs_matrix(df: pd.DataFrame) -> np.ndarray:
    """(N, K) float32 class probabilities from the ``pred_probs`` list column."""
    return np.stack(df["pred_probs"].to_numpy()).astype(np.float32) if len(df) else np.zeros((0, 0), np.float32)


def embedding_matrix(df: pd.DataFrame) -> np.ndarray:
    """(N, D) float32 penultimate-layer embeddings from the ``embedding`` list column."""
    return np.stack(df["embedding"].to_numpy()).astype(np.float32) if len(df) else np.zeros((0, 0), np.float32)
