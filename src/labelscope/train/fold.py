"""One fold of a run, as named steps: resume from its checkpoint, the frozen (head) phase on
cached backbone features, the whole-network phase on augmented images, the held-out prediction.

``train_fold`` runs them in that order; each step appends its epochs to the fold's history,
saves the checkpoint and tells ``on_epoch``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .config import TrainConfig, check_resume, cosine_lr, seed_everything
from .data import LabelsDataset, make_loader
from .head import FeatureSet, head_probs, train_head
from .loop import evaluate, load_checkpoint, save_checkpoint, train_one_epoch
from .losses import make_criterion
from .metrics import summarize
from .models import build_model


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
    run = _Fold(cfg, fold, train_ds, val_ds, train_idx, val_idx, device=device, workers=workers, log=log,
                features=features, eval_targets=eval_targets, on_epoch=on_epoch)
    run.resume()
    if run.done < cfg.head_epochs:
        run.head_phase()
    result = run.full_phase() if cfg.epochs and run.done < run.total else None
    return result if result is not None else run.predict()


class _Fold:
    """The state one fold's steps share: its model, loss, checkpoint and history."""

    def __init__(self, cfg: TrainConfig, fold: int, train_ds: LabelsDataset, val_ds: LabelsDataset,
                 train_idx: np.ndarray, val_idx: np.ndarray, *, device: torch.device, workers: int,
                 log: Callable[[str], None], features: FeatureSet | None, eval_targets: np.ndarray | None,
                 on_epoch: Callable[[dict[str, Any]], None] | None):
        self.cfg, self.fold, self.train_ds, self.val_ds = cfg, fold, train_ds, val_ds
        self.train_idx, self.val_idx, self.device, self.workers = train_idx, val_idx, device, workers
        self.log, self.features, self.on_epoch = log, features, on_epoch
        self.ckpt_path = Path(cfg.out) / "checkpoints" / f"fold{fold}.pt"
        self.k = len(train_ds.classes)
        self.eval_targets = np.asarray(train_ds.targets) if eval_targets is None else eval_targets
        self.given = np.asarray(train_ds.targets)
        seed_everything(cfg.seed * 1000 + fold)
        self.model = build_model(cfg.model, self.k, pretrained=cfg.pretrained, freeze_backbone=cfg.freeze_backbone,
                                 heads=cfg.heads).to(device)
        self.crit = make_criterion(cfg.loss, self.given[train_idx], self.k, heads=cfg.heads, gamma=cfg.focal_gamma)
        self.amp = cfg.amp and device.type == "cuda"        # autocast and GradScaler only on CUDA
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        self.total = cfg.head_epochs + cfg.epochs
        if cfg.head_epochs and features is None:
            raise ValueError("the frozen phase needs the cached backbone features")
        self.history: list[dict[str, Any]] = []
        self.done, self.ckpt = 0, None
        self.every = max(1, cfg.eval_every)

    def record(self, row: dict[str, Any], msg: str) -> None:
        self.history.append(row)
        self.log(msg)
        if self.on_epoch is not None:
            self.on_epoch(row)

    def save(self, epoch: int, optimizer: Any = None) -> None:
        save_checkpoint(self.ckpt_path, model=self.model, optimizer=optimizer,
                        scaler=self.scaler if optimizer is not None else None, epoch=epoch, fold=self.fold,
                        config=self.cfg.to_dict(), classes=self.train_ds.classes, history=self.history)

    def resume(self) -> None:
        """Load the fold's checkpoint when ``cfg.resume`` and one exists (refused if its settings differ)."""
        if not (self.cfg.resume and self.ckpt_path.is_file()):
            return
        self.ckpt = load_checkpoint(self.ckpt_path, map_location=self.device)
        check_resume(self.ckpt, self.cfg, self.train_ds.classes, self.ckpt_path)
        self.model.load_state_dict(self.ckpt["model"])
        self.done, self.history = int(self.ckpt["epoch"]), list(self.ckpt["history"])
        self.log(f"fold {self.fold}: resuming after epoch {self.done} of {self.total} from {self.ckpt_path}")

    def head_phase(self) -> None:
        """The frozen phase: ``cfg.head_epochs`` epochs of the head(s) on the cached features."""
        cfg, fold, features, head_epochs = self.cfg, self.fold, self.features, self.cfg.head_epochs
        vi = self.val_idx[features.ok[self.val_idx]]
        last_save = time.perf_counter()
        for st in train_head(self.model, features, self.given, self.train_idx, epochs=head_epochs, lr=cfg.lr,
                             weight_decay=cfg.weight_decay, batch_size=max(64, cfg.batch_size), criterion=self.crit,
                             seed=cfg.seed * 1000 + fold, device=self.device, start=self.done):
            ep = st["epoch"]
            row = {"fold": fold, "epoch": ep, "phase": "head", "lr": st["lr"], "train_loss": st["loss"],
                   "train_accuracy": st["accuracy"], "train_images": st["images"],
                   "train_images_per_s": st["images_per_s"], "skipped": features.skipped}
            msg = f"fold {fold} epoch {ep}/{self.total} (head): loss {st['loss']:.3f}"
            if ep == head_epochs or ep % self.every == 0:
                p = head_probs(self.model, features.feats[vi], device=self.device)
                val = _scores(self.eval_targets, vi, p, self.k, self.train_ds.schema)
                row.update({"val_loss": _nll(p, self.given[vi]), "val_images": len(vi),
                            "eval_images_per_s": features.images_per_s, **{f"val_{n}": v for n, v in val.items()}})
                msg += f", val macro-F1 {val['macro_f1']:.3f}, acc {val['accuracy']:.3f}"
            self.record(row, msg)
            if ep == head_epochs or time.perf_counter() - last_save > 30:
                self.save(ep)
                last_save = time.perf_counter()
        self.done = head_epochs

    def _optimizer(self) -> tuple[torch.optim.Optimizer, list[float]]:
        """AdamW with the backbone at ``cfg.backbone_lr`` and the head at ``cfg.lr`` (restored on resume)."""
        cfg, model = self.cfg, self.model
        head_ids = {id(p) for n, p in model.named_parameters() if not n.startswith("backbone.")}
        groups = [{"params": [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids],
                   "lr": cfg.backbone_lr},
                  {"params": [p for p in model.parameters() if id(p) in head_ids], "lr": cfg.lr}]
        groups = [g for g in groups if g["params"]]
        bases = [g["lr"] for g in groups]
        opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if self.ckpt is not None and self.ckpt.get("optimizer") and self.done > cfg.head_epochs:
            opt.load_state_dict(self.ckpt["optimizer"])
            if self.scaler is not None and self.ckpt.get("scaler"):
                self.scaler.load_state_dict(self.ckpt["scaler"])
        return opt, bases

    def _val_loader(self) -> torch.utils.data.DataLoader:
        return make_loader(torch.utils.data.Subset(self.val_ds, self.val_idx.tolist()),
                           batch_size=self.cfg.batch_size * 2, workers=self.workers, device=self.device)

    def full_phase(self) -> FoldOutput | None:
        """``cfg.epochs`` whole-network epochs on augmented images; the last one's held-out prediction."""
        cfg, fold, total, head_epochs = self.cfg, self.fold, self.total, self.cfg.head_epochs
        opt, bases = self._optimizer()
        train_loader = make_loader(torch.utils.data.Subset(self.train_ds, self.train_idx.tolist()),
                                   batch_size=cfg.batch_size, shuffle=True, workers=self.workers, device=self.device,
                                   seed=cfg.seed * 1000 + fold + self.done,
                                   drop_last=len(self.train_idx) > cfg.batch_size)
        val_loader = self._val_loader()
        result: FoldOutput | None = None
        for epoch in range(self.done + 1, total + 1):
            e = epoch - head_epochs
            for g, base in zip(opt.param_groups, bases):
                g["lr"] = cosine_lr(base, e, cfg.epochs)
            tr = train_one_epoch(self.model, train_loader, opt, device=self.device, scaler=self.scaler, amp=self.amp,
                                 progress=cfg.progress, desc=f"fold {fold} epoch {epoch}/{total}", criterion=self.crit)
            row = {"fold": fold, "epoch": epoch, "phase": "full" if not cfg.freeze_backbone else "frozen",
                   "lr": opt.param_groups[-1]["lr"], "train_loss": tr["loss"], "train_accuracy": tr["accuracy"],
                   "train_images": tr["images"], "train_images_per_s": tr["images_per_s"], "skipped": tr["skipped"]}
            msg = f"fold {fold} epoch {epoch}/{total}: loss {tr['loss']:.3f}, {tr['images_per_s']:.0f} img/s train"
            result = None
            if epoch == total or e % self.every == 0:
                ev = evaluate(self.model, val_loader, device=self.device, amp=self.amp, progress=cfg.progress,
                              desc=f"fold {fold} eval")
                val = _scores(self.eval_targets, ev.indices, ev.probs, self.k, self.train_ds.schema)
                row.update({"val_loss": ev.loss, "val_images": len(ev.indices), "eval_images_per_s": ev.images_per_s,
                            "skipped": tr["skipped"] + ev.skipped, **{f"val_{n}": v for n, v in val.items()}})
                msg += (f", val loss {ev.loss:.3f}, val macro-F1 {val['macro_f1']:.3f}, acc {val['accuracy']:.3f}, "
                        f"{ev.images_per_s:.0f} img/s eval")
                result = FoldOutput(ev.indices, ev.probs, ev.embeddings, self.history, self.model.weights_note)
            self.record(row, msg)
            self.save(epoch, opt)
        return result

    def predict(self) -> FoldOutput:
        """The held-out prediction without training: from the cached features when the frozen
        phase was all, else one evaluation pass of the (resumed) model."""
        if self.cfg.epochs == 0:
            vi = self.val_idx[self.features.ok[self.val_idx]]
            return FoldOutput(vi, head_probs(self.model, self.features.feats[vi], device=self.device),
                              self.features.feats[vi], self.history, self.model.weights_note)
        self.log(f"fold {self.fold}: already trained for {self.done} epochs; predicting only")
        ev = evaluate(self.model, self._val_loader(), device=self.device, amp=self.amp, progress=self.cfg.progress,
                      desc=f"fold {self.fold} eval")
        return FoldOutput(ev.indices, ev.probs, ev.embeddings, self.history, self.model.weights_note)
