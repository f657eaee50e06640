"""Small training verbs: ``train_one_epoch``, ``evaluate``, ``save_checkpoint``, ``load_checkpoint``."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
import torch.nn.functional as F

from ..workspace import atomic_write
from .losses import Criterion
from .models import Classifier, build_model, split_targets

CHECKPOINT_VERSION = 1


def _progress(loader: Iterable, *, total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(loader, total=total, desc=desc, unit="batch", leave=False, disable=not enabled,
                file=sys.stderr, dynamic_ncols=True)


def _autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def loss_fn(model: Classifier, emb: torch.Tensor, target: torch.Tensor, criterion: Criterion | None = None
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Training loss and the (N, K) class scores: one loss, or the sum over the three heads."""
    crit = criterion or Criterion("ce")
    logits = model.head_logits(emb)
    scores = model.combine(logits)
    if model.heads_kind == "single":
        return crit(logits["class"], target, head="class"), scores
    parts = split_targets(target)
    return sum(crit(logits[k], parts[k], head=k) for k in logits), scores


def train_one_epoch(model: Classifier, loader: torch.utils.data.DataLoader, optimizer: torch.optim.Optimizer, *,
                    device: torch.device, scaler: torch.amp.GradScaler | None = None, amp: bool = False,
                    progress: bool = False, desc: str = "train", criterion: Criterion | None = None
                    ) -> dict[str, float]:
    """One pass over ``loader``; returns loss, accuracy, images, skipped, seconds and images_per_s."""
    model.train()
    total_loss, correct, seen, skipped = 0.0, 0, 0, 0
    t0 = time.perf_counter()
    bar = _progress(loader, total=len(loader), desc=desc, enabled=progress)
    for batch in bar:
        skipped += batch["skipped"]
        n = len(batch["target"])
        if n == 0:
            continue
        x = batch["image"].to(device, non_blocking=True)
        y = batch["target"].to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with _autocast(device, amp):
            loss, scores = loss_fn(model, model.features(x), y, criterion)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        total_loss += float(loss.detach()) * n
        correct += int((scores.argmax(1) == y).sum())
        seen += n
        if progress:
            bar.set_postfix(loss=f"{total_loss / seen:.3f}", img_s=f"{seen / (time.perf_counter() - t0):.0f}")
    secs = time.perf_counter() - t0
    return {"loss": total_loss / max(seen, 1), "accuracy": correct / max(seen, 1), "images": seen,
            "skipped": skipped, "seconds": secs, "images_per_s": seen / secs if secs > 0 else 0.0}


@dataclass
class EvalOutput:
    """What ``evaluate`` saw: dataset indices, targets, class probabilities, embeddings."""

    indices: np.ndarray      # (N,) positions in the underlying dataset
    targets: np.ndarray      # (N,) given class indices
    probs: np.ndarray        # (N, K) float32, rows sum to 1
    embeddings: np.ndarray   # (N, D) float32 penultimate-layer features
    loss: float
    skipped: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return len(self.indices) / self.seconds if self.seconds > 0 else 0.0


@torch.no_grad()
def evaluate(model: Classifier, loader: torch.utils.data.DataLoader, *, device: torch.device, amp: bool = False,
             progress: bool = False, desc: str = "eval") -> EvalOutput:
    """Probabilities and embeddings for every readable image in ``loader`` (model in eval mode)."""
    model.eval()
    idx, tgt, probs, embs = [], [], [], []
    total_loss, skipped = 0.0, 0
    t0 = time.perf_counter()
    for batch in _progress(loader, total=len(loader), desc=desc, enabled=progress):
        skipped += batch["skipped"]
        if len(batch["target"]) == 0:
            continue
        x = batch["image"].to(device, non_blocking=True)
        y = batch["target"].to(device, non_blocking=True)
        with _autocast(device, amp):
            emb = model.features(x)
            scores = model.combine(model.head_logits(emb)).float()
        total_loss += float(F.cross_entropy(scores, y, reduction="sum"))
        probs.append(torch.softmax(scores, 1).cpu())
        embs.append(emb.float().cpu())
        idx.append(batch["index"])
        tgt.append(batch["target"])
    secs = time.perf_counter() - t0
    k, d = model.num_classes, model.embedding_dim
    cat = (lambda xs, shape: torch.cat(xs).numpy() if xs else np.zeros(shape, np.float32))
    out_idx = torch.cat(idx).numpy() if idx else np.zeros(0, int)
    return EvalOutput(out_idx, torch.cat(tgt).numpy() if tgt else np.zeros(0, int),
                      cat(probs, (0, k)).astype(np.float32), cat(embs, (0, d)).astype(np.float32),
                      total_loss / max(len(out_idx), 1), skipped, secs)


def save_checkpoint(path: str | os.PathLike[str], *, model: Classifier, optimizer: torch.optim.Optimizer | None,
                    epoch: int, config: dict[str, Any], classes: list[str], history: list[dict[str, Any]],
                    fold: int | None = None, scaler: torch.amp.GradScaler | None = None) -> Path:
    """Write model + optimizer state with the run's config and class list (atomic)."""
    state = {
        "version": CHECKPOINT_VERSION, "epoch": int(epoch), "fold": fold, "config": dict(config),
        "classes": list(classes), "history": list(history), "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "arch": {"name": model.name, "num_classes": model.num_classes, "heads": model.heads_kind,
                 "freeze_backbone": model.frozen},
    }
    return atomic_write(path, lambda p: torch.save(state, p))


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The dict ``save_checkpoint`` wrote (tensors only; no code is unpickled)."""
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: not a labelscope checkpoint (version {CHECKPOINT_VERSION})")
    return ckpt


def model_from_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu"
                          ) -> tuple[Classifier, dict[str, Any]]:
    """Rebuild the model a checkpoint describes and load its weights; returns (model, checkpoint)."""
    ckpt = load_checkpoint(path, map_location=map_location)
    a = ckpt["arch"]
    model = build_model(a["name"], a["num_classes"], pretrained="none", heads=a["heads"],
                        freeze_backbone=a["freeze_backbone"])
    model.load_state_dict(ckpt["model"])
    return model, ckpt
