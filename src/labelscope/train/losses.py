"""Training losses: cross-entropy, class-weighted cross-entropy and focal loss, per head.

>>> crit = make_criterion("weighted", targets, 18, heads="multi")
>>> loss = crit(logits["gender"], parts["gender"], head="gender")

``weighted`` gives every class the weight ``n / (K * count)`` over the training fold (normalised
so the mean weight per sample is 1), so a rare class counts as much as a common one in total;
``focal`` (Lin et al. 2017) scales each sample's cross-entropy by ``(1 - p_true) ** gamma``,
so well-classified samples add little. For ``heads="multi"`` each head (mask, gender, age group)
gets its own weights from the attribute's counts.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

LOSSES = ("ce", "weighted", "focal")


def class_weights(targets: Sequence[int], num_classes: int) -> torch.Tensor:
    """``n / (K_present * count)`` per class (0 for a class absent from ``targets``), mean 1 per sample."""
    counts = np.bincount(np.asarray(targets, int), minlength=num_classes).astype(float)
    present = counts > 0
    w = np.zeros(num_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    w *= counts.sum() / max((w * counts).sum(), 1e-12)  # mean weight over the samples = 1
    return torch.tensor(w, dtype=torch.float32)


class Criterion:
    """Loss of one head's logits against its targets (see the module docstring)."""

    def __init__(self, kind: str = "ce", *, gamma: float = 2.0, weights: dict[str, torch.Tensor] | None = None):
        if kind not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {kind!r}")
        self.kind, self.gamma, self.weights = kind, float(gamma), dict(weights or {})

    def __call__(self, logits: torch.Tensor, target: torch.Tensor, *, head: str = "class") -> torch.Tensor:
        logits = logits.float()
        w = self.weights.get(head)
        w = w.to(logits.device) if w is not None else None
        if self.kind != "focal":
            return F.cross_entropy(logits, target, weight=w)
        logp = torch.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
        loss = -((1 - logp.exp()).clamp(min=0) ** self.gamma) * logp
        if w is not None:
            sw = w[target]
            return (loss * sw).sum() / sw.sum().clamp(min=1e-12)
        return loss.mean()

    def __repr__(self) -> str:
        return f"Criterion({self.kind!r}, gamma={self.gamma})" if self.kind == "focal" else f"Criterion({self.kind!r})"


def make_criterion(kind: str, targets: Sequence[int], num_classes: int, *, heads: str = "single",
                   gamma: float = 2.0) -> Criterion:
    """The criterion for one fold; class weights come from that fold's training ``targets``."""
    if kind not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, not {kind!r}")
    weights: dict[str, torch.Tensor] = {}
    if kind == "weighted":
        t = np.asarray(targets, int)
        if heads == "multi":
            from .models import MULTI_SIZES, split_targets

            parts = split_targets(torch.as_tensor(t))
            weights = {k: class_weights(parts[k].numpy(), n) for k, n in MULTI_SIZES.items()}
        else:
            weights = {"class": class_weights(t, num_classes)}
    return Criterion(kind, gamma=gamma, weights=weights)
