"""K-fold training on the exported labels with out-of-fold predictions for every image.

    labelscope train export/labels.csv --dataset data/demo --out runs/small \\
        --model small --img-size 64 --folds 2 --epochs 1
    labelscope train export/labels.csv --dataset data/demo --out runs/r18 \\
        --model resnet18 --pretrained auto --freeze-backbone --heads multi --crop faces
    labelscope train ... --out runs/r18 --epochs 10 --resume     # continue from the checkpoints

>>> from labelscope.train.run import TrainConfig, train
>>> result = train(TrainConfig("export/labels.csv", "data/demo", "runs/small", folds=2, epochs=1))
>>> result.metrics["oof"]["macro_f1"]
"""
from __future__ import annotations

import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from . import outputs
from .data import LabelsDataset, make_loader, reduced_loader
from .labels import read_face_boxes
from .loop import evaluate, load_checkpoint, save_checkpoint, train_one_epoch
from .metrics import confusion, f1_per_class, summarize
from .models import build_model, resolve_pretrained
from .split import person_folds
from .transforms import build_transforms

# Config fields a resumed run must share with its checkpoints.
RESUME_KEYS = ("model", "heads", "img_size", "folds", "seed", "crop", "freeze_backbone")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs; stored in every checkpoint and in metrics.json."""

    labels_csv: str
    dataset: str
    out: str
    model: str = "small"
    img_size: int = 128
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    workers: int = -1                 # -1: one loader process per spare core (at most 4)
    folds: int = 5
    seed: int = 0
    device: str = "auto"              # auto: CUDA when present
    pretrained: str = "auto"          # auto | none | PATH
    freeze_backbone: bool = False
    heads: str = "single"             # single | multi (mask layout)
    crop: str = "none"                # none | center | faces
    face_margin: float = 0.4
    faces: str | None = None          # faces.parquet; default: the workspace's
    resume: bool = False
    amp: bool = True                  # mixed precision on CUDA
    threads: int = 0                  # torch CPU threads; 0: cores not used by loader workers
    progress: bool = True
    workspace: str | None = None      # import the predictions into this workspace when done
    name: str | None = None           # run name (default: the RUN_DIR folder name)
    eval_labels_csv: str | None = None  # score held-out folds against these labels instead
    folds_csv: str | None = None      # reuse another run's folds.csv (same held-out people)
    eval_every: int = 1               # score the held-out fold every N epochs (and after the last)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunResult:
    out: Path
    metrics: dict[str, Any]
    predictions: Path
    folds: np.ndarray
    history: list[dict[str, Any]] = field(default_factory=list)


def _stderr(msg: str) -> None:
    print(f"labelscope train: {msg}", file=sys.stderr, flush=True)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA device")
    return dev


def resolve_workers(workers: int) -> int:
    return min(4, max(0, (os.cpu_count() or 1) - 1)) if workers < 0 else workers


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def cosine_lr(base: float, epoch: int, epochs: int) -> float:
    """Learning rate of 1-based ``epoch``: cosine from ``base`` down to 5% of it."""
    if epochs <= 1:
        return base
    t = (epoch - 1) / (epochs - 1)
    return base * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))


def _faces_path(cfg: TrainConfig) -> Path | None:
    if cfg.faces:
        return Path(cfg.faces)
    from ..config import default_workspace
    from ..workspace import Workspace

    ws = Workspace(cfg.workspace) if cfg.workspace else Workspace(default_workspace(cfg.dataset))
    return ws.faces


def _check_resume(ckpt: dict[str, Any], cfg: TrainConfig, classes: list[str], path: Path) -> None:
    old = ckpt["config"]
    for k in RESUME_KEYS:
        if old.get(k) != getattr(cfg, k):
            raise ValueError(f"{path}: cannot resume: it was trained with {k}={old.get(k)!r}, now {getattr(cfg, k)!r}")
    if ckpt["classes"] != classes:
        raise ValueError(f"{path}: cannot resume: its class list differs from the labels file's")


def train_fold(cfg: TrainConfig, fold: int, train_ds: LabelsDataset, val_ds: LabelsDataset, train_idx: np.ndarray,
               val_idx: np.ndarray, *, device: torch.device, workers: int, log: Callable[[str], None],
               on_epoch: Callable[[dict[str, Any]], None] | None = None) -> tuple[Any, list[dict[str, Any]], str]:
    """Train one fold (resuming from its checkpoint when asked); returns (last eval, history, weights note)."""
    out = Path(cfg.out)
    ckpt_path = out / "checkpoints" / f"fold{fold}.pt"
    seed_everything(cfg.seed * 1000 + fold)
    model = build_model(cfg.model, len(train_ds.classes), pretrained=cfg.pretrained,
                        freeze_backbone=cfg.freeze_backbone, heads=cfg.heads).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if amp else None
    history: list[dict[str, Any]] = []
    done = 0
    if cfg.resume and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path, map_location=device)
        _check_resume(ckpt, cfg, train_ds.classes, ckpt_path)
        model.load_state_dict(ckpt["model"])
        if ckpt.get("optimizer"):
            opt.load_state_dict(ckpt["optimizer"])
        if scaler is not None and ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        done, history = int(ckpt["epoch"]), list(ckpt["history"])
        log(f"fold {fold}: resuming after epoch {done} of {cfg.epochs} from {ckpt_path}")
    train_loader = make_loader(torch.utils.data.Subset(train_ds, train_idx.tolist()), batch_size=cfg.batch_size,
                               shuffle=True, workers=workers, device=device, seed=cfg.seed * 1000 + fold + done,
                               drop_last=len(train_idx) > cfg.batch_size)
    val_loader = make_loader(torch.utils.data.Subset(val_ds, val_idx.tolist()), batch_size=cfg.batch_size * 2,
                             workers=workers, device=device)
    mask_layout = len(train_ds.classes) == 18 and train_ds.layout == "mask"
    last = None
    for epoch in range(done + 1, cfg.epochs + 1):
        lr = cosine_lr(cfg.lr, epoch, cfg.epochs)
        for g in opt.param_groups:
            g["lr"] = lr
        tr = train_one_epoch(model, train_loader, opt, device=device, scaler=scaler, amp=amp,
                             progress=cfg.progress, desc=f"fold {fold} epoch {epoch}/{cfg.epochs}")
        row = {"fold": fold, "epoch": epoch, "lr": lr, "train_loss": tr["loss"], "train_accuracy": tr["accuracy"],
               "train_images": tr["images"], "train_images_per_s": tr["images_per_s"], "skipped": tr["skipped"]}
        msg = f"fold {fold} epoch {epoch}/{cfg.epochs}: loss {tr['loss']:.3f}, {tr['images_per_s']:.0f} img/s train"
        last = None
        if epoch == cfg.epochs or epoch % max(1, cfg.eval_every) == 0:
            last = evaluate(model, val_loader, device=device, amp=amp, progress=cfg.progress,
                            desc=f"fold {fold} eval")
            val = summarize(last.targets, last.probs.argmax(1), len(train_ds.classes), mask_layout=mask_layout)
            row.update({"val_loss": last.loss, "val_images": len(last.indices), "eval_images_per_s": last.images_per_s,
                        "skipped": tr["skipped"] + last.skipped, **{f"val_{k}": v for k, v in val.items()}})
            msg += (f", val loss {last.loss:.3f}, val macro-F1 {val['macro_f1']:.3f}, acc {val['accuracy']:.3f}, "
                    f"{last.images_per_s:.0f} img/s eval")
        history.append(row)
        log(msg)
        if on_epoch is not None:
            on_epoch(row)
        save_checkpoint(ckpt_path, model=model, optimizer=opt, scaler=scaler, epoch=epoch, fold=fold,
                        config=cfg.to_dict(), classes=train_ds.classes, history=history)
    if last is None:  # already trained to cfg.epochs: only predict
        log(f"fold {fold}: already trained for {done} epochs; predicting only")
        last = evaluate(model, val_loader, device=device, amp=amp, progress=cfg.progress, desc=f"fold {fold} eval")
    return last, history, model.weights_note


def train(config: TrainConfig, *, log: Callable[[str], None] = _stderr,
          on_epoch: Callable[[dict[str, Any]], None] | None = None) -> RunResult:
    """Train ``config.folds`` models on person-grouped folds; write out-of-fold predictions.

    Writes into ``config.out``: ``checkpoints/fold<k>.pt`` (config and class list inside),
    ``folds.csv``, ``predictions.parquet`` (one row per readable non-excluded image),
    ``metrics.json`` (out-of-fold scores, per-epoch history, speed) and ``confusion.csv``.
    With ``config.workspace`` the predictions are imported into the workspace as well.
    Every epoch's row (loss, held-out macro-F1...) is appended to ``epochs.jsonl`` as it ends
    (see ``outputs.read_epochs``) and passed to ``on_epoch``.
    """
    cfg = config
    started = datetime.now(timezone.utc)
    out = Path(cfg.out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = replace(cfg, out=str(out))
    device, workers = resolve_device(cfg.device), resolve_workers(cfg.workers)
    # loader processes decode on their own cores; the rest compute (no oversubscription: idle
    # OpenMP threads spin, and on 2 cores 2 threads + 1 worker ran slower than 1 + 1)
    threads = cfg.threads or max(1, (os.cpu_count() or 1) - workers)
    torch.set_num_threads(threads)
    boxes = read_face_boxes(_faces_path(cfg)) if cfg.crop == "faces" else {}
    if cfg.crop == "faces":
        log(f"face crop: {len(boxes)} face boxes from {_faces_path(cfg)}; images without one use the centre crop")
    loader = reduced_loader(cfg.img_size)
    base = LabelsDataset(cfg.labels_csv, cfg.dataset, loader=loader, boxes=boxes, crop=cfg.crop,
                         margin=cfg.face_margin)
    evald = base
    if cfg.eval_labels_csv:
        evald = LabelsDataset(cfg.eval_labels_csv, cfg.dataset, loader=loader, boxes=boxes, crop=cfg.crop,
                              margin=cfg.face_margin, classes=base.classes)
        if evald.image_ids != base.image_ids:
            raise ValueError(f"{cfg.eval_labels_csv}: must list the same kept images, in the same order, as "
                             f"{cfg.labels_csv}")
    log(f"{len(base)} images ({base.excluded} excluded), {len(base.classes)} classes, layout {base.layout}; "
        f"device {device}, {threads} threads, {workers} loader workers")
    folds = outputs.read_folds(out / outputs.FOLDS, base.image_ids) if cfg.resume else None
    if folds is None and cfg.folds_csv:
        folds = outputs.read_folds(cfg.folds_csv, base.image_ids)
        if folds is None or sorted(set(folds.tolist())) != list(range(cfg.folds)):
            raise ValueError(f"{cfg.folds_csv}: its images or its {cfg.folds} folds do not match {cfg.labels_csv}")
        outputs.write_folds(out / outputs.FOLDS, base.image_ids, base.persons, folds)
    if folds is None:
        folds = person_folds(base.targets, base.persons, k=cfg.folds, seed=cfg.seed)
        outputs.write_folds(out / outputs.FOLDS, base.image_ids, base.persons, folds)
    train_ds = base.with_transform(build_transforms(cfg.img_size, train=True, crop=cfg.crop))
    val_ds = evald.with_transform(build_transforms(cfg.img_size, train=False, crop=cfg.crop))
    n, k = len(base), len(base.classes)
    probs, embs, got = None, None, np.zeros(n, bool)
    history: list[dict[str, Any]] = []
    note = resolve_pretrained(cfg.model, cfg.pretrained)[1]
    log(note)
    epochs_file = outputs.start_epochs(out, keep=cfg.resume)

    def epoch_done(row: dict[str, Any]) -> None:
        outputs.append_epoch(epochs_file, row)
        if on_epoch is not None:
            on_epoch(row)

    t0 = time.perf_counter()
    for f in range(cfg.folds):
        tr_idx, va_idx = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        res, hist, note = train_fold(cfg, f, train_ds, val_ds, tr_idx, va_idx, device=device, workers=workers, log=log,
                                     on_epoch=epoch_done)
        if embs is None:
            probs = np.zeros((n, k), np.float32)
            embs = np.zeros((n, res.embeddings.shape[1]), np.float32)
        probs[res.indices], embs[res.indices], got[res.indices] = res.probs, res.embeddings, True
        history += hist
    seconds = time.perf_counter() - t0
    keep = np.flatnonzero(got)
    skipped = [base.image_ids[i] for i in np.flatnonzero(~got)]
    if skipped:
        log(f"{len(skipped)} unreadable image(s) skipped and left out of the predictions: {', '.join(skipped[:5])}")
    y_eval = np.asarray(evald.targets)[keep]
    pred = probs[keep].argmax(1)
    mask_layout = base.layout == "mask" and k == 18
    cm = confusion(y_eval, pred, k)
    extra = {"eval_label": [evald.classes[t] for t in y_eval]} if cfg.eval_labels_csv else None
    pred_path = outputs.write_predictions(
        out / outputs.PREDICTIONS, image_ids=[base.image_ids[i] for i in keep],
        persons=[base.persons[i] for i in keep], folds=folds[keep], given=np.asarray(base.targets)[keep],
        probs=probs[keep], embeddings=embs[keep], classes=base.classes, extra=extra)
    outputs.write_confusion(out / outputs.CONFUSION, cm, base.classes)
    last = [h for h in history if h["epoch"] == max(x["epoch"] for x in history if x["fold"] == h["fold"])]
    metrics = {
        "run": cfg.name or out.name, "created": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "config": cfg.to_dict(),
        "classes": base.classes, "layout": base.layout, "weights": note, "images": n, "excluded": base.excluded,
        "predicted": int(len(keep)), "skipped": skipped, "folds": cfg.folds, "epochs": cfg.epochs,
        "oof": summarize(y_eval, pred, k, mask_layout=mask_layout),
        "per_class_f1": dict(zip(base.classes, map(float, f1_per_class(cm)))),
        "history": history,
        "speed": {"device": str(device), "threads": threads, "workers": workers, "seconds": seconds,
                  "train_images_per_s": _mean(h["train_images_per_s"] for h in history),
                  "eval_images_per_s": _mean(h["eval_images_per_s"] for h in history if "eval_images_per_s" in h)},
        "final_folds": last,
    }
    outputs.write_metrics(out / outputs.METRICS, metrics)
    oof = metrics["oof"]
    log(f"out-of-fold macro-F1 {oof['macro_f1']:.3f}, accuracy {oof['accuracy']:.3f} on {len(keep)} images; "
        f"wrote {out}")
    if cfg.workspace:
        from .registry import import_predictions

        dest = import_predictions(out, cfg.workspace, name=cfg.name)
        log(f"predictions imported into {dest}")
    return RunResult(out, metrics, pred_path, folds, history)


def _mean(xs) -> float:
    xs = [float(x) for x in xs]
    return sum(xs) / len(xs) if xs else 0.0
