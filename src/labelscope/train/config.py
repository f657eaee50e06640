"""What one training run is asked to do (``TrainConfig``) and what it resolves to before training:
the schedule, the device, loader workers, seeds and the learning-rate curve.

>>> from labelscope.train.config import TrainConfig, resolve_schedule
>>> resolve_schedule(TrainConfig("export/labels.csv", "data/demo", "runs/effnet"))   # pretrained effnet
(30, 0, 0.0001)
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .models import DEFAULT_MODEL, resolve_pretrained

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


def resolve_schedule(cfg: TrainConfig) -> tuple[int, int, float]:
    """(frozen-phase epochs, whole-network epochs, backbone lr) the run will use (no training)."""
    c = schedule(cfg)[0]
    return c.head_epochs, c.epochs, c.backbone_lr


def schedule(cfg: TrainConfig) -> tuple[TrainConfig, Path | None, str]:
    """``cfg`` with its -1/0 defaults filled in, the pretrained weights' path and a note on them."""
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


def check_resume(ckpt: dict[str, Any], cfg: TrainConfig, classes: list[str], path: Path) -> None:
    """Refuse to resume from a checkpoint trained with other settings or another class list."""
    old = ckpt["config"]
    for k in RESUME_KEYS:
        was, now = old.get(k), getattr(cfg, k)
        if isinstance(was, list):
            was = tuple(was)
        if was != now:
            raise ValueError(f"{path}: cannot resume: it was trained with {k}={was!r}, now {now!r}")
    if ckpt["classes"] != classes:
        raise ValueError(f"{path}: cannot resume: its class list differs from the labels file's")


def faces_path(cfg: TrainConfig) -> Path | None:
    """The faces.parquet the face crops read: ``cfg.faces``, else the workspace's."""
    if cfg.faces:
        return Path(cfg.faces)
    from ..config import default_workspace
    from ..workspace import Workspace

    ws = Workspace(cfg.workspace) if cfg.workspace else Workspace(default_workspace(cfg.dataset))
    return ws.faces
