"""The frozen phase on cached backbone features: one backbone pass per image, then the head alone.

A pretrained backbone is the same network in every fold until it is unfrozen, so its features
are computed once per image (and once more on the horizontally flipped image, as augmentation)
and every fold's head trains on them: tens of epochs cost less than one pass through the
backbone, which is what makes transfer learning quick on a CPU.

>>> fs = backbone_features(model.backbone, loader, len(ds), device=dev)
>>> for stats in train_head(model, fs, targets, train_idx, epochs=30, lr=1e-3, criterion=crit):
...     probs = head_probs(model, fs.feats[val_idx])
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from .losses import Criterion
from .models import Classifier


@dataclass
class FeatureSet:
    """Backbone embeddings of every dataset position (zeros where ``ok`` is False: unreadable)."""

    feats: np.ndarray            # (N, D) float32
    flipped: np.ndarray | None   # (N, D) float32 of the mirrored image, or None
    ok: np.ndarray               # (N,) bool
    seconds: float
    skipped: int

    @property
    def images_per_s(self) -> float:
        return int(self.ok.sum()) / self.seconds if self.seconds > 0 else 0.0


def _autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


@torch.no_grad()
def backbone_features(backbone: torch.nn.Module, loader: torch.utils.data.DataLoader, n: int, *,
                      device: torch.device, amp: bool = False, flip: bool = True) -> FeatureSet:
    """Embeddings of every image ``loader`` yields (eval mode, no augmentation; ``flip``: mirrored too)."""
    was = backbone.training
    backbone.eval()
    feats: np.ndarray | None = None
    flipped: np.ndarray | None = None
    ok = np.zeros(n, bool)
    skipped = 0
    t0 = time.perf_counter()
    for batch in loader:
        skipped += batch["skipped"]
        if len(batch["target"]) == 0:
            continue
        x = batch["image"].to(device, non_blocking=True)
        idx = batch["index"].numpy()
        with _autocast(device, amp):
            f = backbone(x).float().cpu().numpy()
            ff = backbone(torch.flip(x, dims=(3,))).float().cpu().numpy() if flip else None
        if feats is None:
            feats = np.zeros((n, f.shape[1]), np.float32)
            flipped = np.zeros((n, f.shape[1]), np.float32) if flip else None
        feats[idx] = f
        if flip and flipped is not None:
            flipped[idx] = ff
        ok[idx] = True
    backbone.train(was)
    if feats is None:
        raise ValueError("no image could be read: nothing to compute features of")
    return FeatureSet(feats, flipped, ok, time.perf_counter() - t0, skipped)


def head_parameters(model: Classifier) -> list[torch.nn.Parameter]:
    return list(model.head.parameters()) if model.heads_kind == "single" else list(model.heads.parameters())


def train_head(model: Classifier, fs: FeatureSet, targets: Sequence[int], train_idx: np.ndarray, *, epochs: int,
               lr: float, weight_decay: float = 1e-4, batch_size: int = 64, criterion: Criterion | None = None,
               seed: int = 0, device: torch.device | str = "cpu", start: int = 0) -> Iterator[dict[str, Any]]:
    """Train only the head(s) on cached features; yields one stats dict per epoch (cosine lr).

    ``start`` skips epochs already done (resume). The backbone is not touched.
    """
    from .loop import loss_fn

    dev = torch.device(device)
    keep = train_idx[fs.ok[train_idx]]
    y = np.asarray(targets, int)[keep]
    X = fs.feats[keep]
    if fs.flipped is not None:
        X, y = np.concatenate([X, fs.flipped[keep]]), np.concatenate([y, y])
    Xt, yt = torch.from_numpy(X).to(dev), torch.from_numpy(y).to(dev)
    params = head_parameters(model)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(Xt), generator=gen).to(dev)  # drawn every epoch: resume stays identical
        if epoch <= start:
            continue
        cur = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / max(epochs - 1, 1))))
        for g in opt.param_groups:
            g["lr"] = cur
        model.train()
        total, correct = 0.0, 0
        t0 = time.perf_counter()
        for b in range(0, len(perm), batch_size):
            sel = perm[b:b + batch_size]
            loss, scores = loss_fn(model, Xt[sel], yt[sel], criterion)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(sel)
            correct += int((scores.argmax(1) == yt[sel]).sum())
        secs = time.perf_counter() - t0
        yield {"epoch": epoch, "lr": cur, "loss": total / max(len(perm), 1), "accuracy": correct / max(len(perm), 1),
               "images": len(perm), "seconds": secs, "images_per_s": len(perm) / secs if secs > 0 else 0.0}


@torch.no_grad()
def head_probs(model: Classifier, feats: np.ndarray, *, device: torch.device | str = "cpu") -> np.ndarray:
    """(N, K) class probabilities of the head(s) on cached features (eval mode)."""
    model.eval()
    scores = model.combine(model.head_logits(torch.from_numpy(np.ascontiguousarray(feats)).to(device)))
    return torch.softmax(scores.float(), 1).cpu().numpy().astype(np.float32)
