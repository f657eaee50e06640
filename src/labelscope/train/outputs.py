"""What a run writes into RUN_DIR: predictions.parquet, metrics.json, confusion.csv, folds.csv."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..workspace import atomic_write, write_json

PREDICTIONS = "predictions.parquet"
METRICS = "metrics.json"
CONFUSION = "confusion.csv"
FOLDS = "folds.csv"
EPOCHS = "epochs.jsonl"


def _list_column(mat: np.ndarray):
    """(N, D) float array -> pyarrow ``list<float32>`` array, one list per row."""
    import pyarrow as pa

    mat = np.ascontiguousarray(mat, dtype=np.float32)
    n, d = mat.shape
    offsets = pa.array(np.arange(0, n * d + 1, d, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(mat.reshape(-1)))


def write_predictions(path: str | os.PathLike[str], *, image_ids: Sequence[str], persons: Sequence[str],
                      folds: np.ndarray, given: np.ndarray, probs: np.ndarray, embeddings: np.ndarray,
                      classes: Sequence[str], extra: dict[str, Sequence[Any]] | None = None) -> Path:
    """One row per predicted image.

    Columns: ``image_id``, ``person``, ``fold``, ``given_label``, ``given_index``,
    ``pred_probs`` (list<float32>, K values in class order, summing to 1),
    ``predicted_label``, ``predicted_index``, ``confidence`` (the top probability),
    ``embedding`` (list<float32>, the penultimate layer), plus ``extra`` columns.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    cls = np.asarray(list(classes), dtype=object)
    pred = probs.argmax(1) if len(probs) else np.zeros(0, int)
    cols: dict[str, Any] = {
        "image_id": pa.array(list(image_ids), pa.string()),
        "person": pa.array([str(p) for p in persons], pa.string()),
        "fold": pa.array(np.asarray(folds, np.int16)),
        "given_label": pa.array(cls[np.asarray(given, int)].tolist(), pa.string()),
        "given_index": pa.array(np.asarray(given, np.int16)),
        "pred_probs": _list_column(probs),
        "predicted_label": pa.array(cls[pred].tolist(), pa.string()),
        "predicted_index": pa.array(pred.astype(np.int16)),
        "confidence": pa.array(probs.max(1).astype(np.float32) if len(probs) else np.zeros(0, np.float32)),
        "embedding": _list_column(embeddings),
    }
    for k, v in (extra or {}).items():
        cols[k] = pa.array(list(v))
    table = pa.table(cols).replace_schema_metadata({"labelscope.classes": "\n".join(classes)})
    return atomic_write(path, lambda p: pq.write_table(table, p))


def write_confusion(path: str | os.PathLike[str], cm: np.ndarray, classes: Sequence[str]) -> Path:
    """Rows = given class, columns = predicted class, labelled by class name."""
    df = pd.DataFrame(cm, index=pd.Index(list(classes), name="given"), columns=list(classes))
    return atomic_write(path, lambda p: df.to_csv(p))


def write_folds(path: str | os.PathLike[str], image_ids: Sequence[str], persons: Sequence[str],
                folds: np.ndarray) -> Path:
    df = pd.DataFrame({"image_id": list(image_ids), "person": list(persons), "fold": np.asarray(folds, int)})
    return atomic_write(path, lambda p: df.to_csv(p, index=False))


def read_folds(path: str | os.PathLike[str], image_ids: Sequence[str]) -> np.ndarray | None:
    """The folds a previous run used, or None when the file is absent or its images differ."""
    p = Path(path)
    if not p.is_file():
        return None
    df = pd.read_csv(p, dtype={"image_id": str, "person": str})
    if df["image_id"].tolist() != list(image_ids):
        return None
    return df["fold"].to_numpy(int)


def folds_by_id(path: str | os.PathLike[str], image_ids: Sequence[str]) -> np.ndarray:
    """Each image's fold from another run's ``folds.csv`` (it may list more images); names a missing one."""
    df = pd.read_csv(path, dtype={"image_id": str, "person": str}, keep_default_na=False)
    by_id = dict(zip(df["image_id"], df["fold"].astype(int)))
    missing = [i for i in image_ids if i not in by_id]
    if missing:
        raise ValueError(f"{path}: has no fold for {len(missing)} image(s) of the labels file, e.g. {missing[0]}")
    return np.asarray([by_id[i] for i in image_ids], int)


def write_metrics(path: str | os.PathLike[str], metrics: dict[str, Any]) -> Path:
    return write_json(metrics, path)


def start_epochs(out: str | os.PathLike[str], *, keep: bool = False) -> Path:
    """``RUN_DIR/epochs.jsonl``, emptied for a new run (kept with ``keep``, for a resumed one)."""
    path = Path(out) / EPOCHS
    if not keep or not path.exists():
        path.write_text("", encoding="utf-8")
    return path


def append_epoch(path: str | os.PathLike[str], row: dict[str, Any]) -> None:
    """One finished epoch (a history row of ``train``) as one JSON line, flushed at once."""
    import json

    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, default=float) + "\n")


def read_epochs(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The epochs a run has finished so far (one row each: fold, epoch, train_loss, val_macro_f1...).

    Readable while the run writes: a last line still being written is left out. Empty (no
    columns) when the run has not finished an epoch yet or the file does not exist.
    """
    import json

    path = Path(run_dir) / EPOCHS
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return pd.DataFrame()
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # the line being written right now
    return pd.DataFrame(rows)
