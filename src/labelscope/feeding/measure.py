"""Time the two halves of a training step alone: the loader, and the model on synthetic data.

Both return plain dataclasses with images/s, seconds per batch and memory in use, measured
after a warm-up. torch is imported inside the functions.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from .memory import process_mb, process_tree_mb


@dataclass(frozen=True)
class LoaderTiming:
    """The loader alone at one (batch size, workers) setting.

    ``batches`` and ``images`` are what the timed window delivered (after ``warmup_batches``
    not timed); ``warmup_s`` includes starting the worker processes; ``mem_mb`` is the
    memory of this process plus its workers while they ran.
    """

    batch_size: int
    workers: int
    batches: int
    images: int
    seconds: float
    images_per_s: float
    s_per_batch: float
    warmup_batches: int
    warmup_s: float
    mem_mb: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelTiming:
    """The model alone: forward + backward + optimizer step on synthetic tensors.

    ``mem_mb`` is the peak CUDA memory allocated on a GPU, else the growth of this
    process's memory from before the inputs were made to the largest value seen during
    the timed steps (inputs, activations, gradients).
    """

    batch_size: int
    img_size: int
    device: str
    batches: int
    seconds: float
    images_per_s: float
    s_per_batch: float
    mem_mb: float

    def to_dict(self) -> dict:
        return asdict(self)


def batch_images(batch: Any) -> int:
    """How many images a collated batch holds (first 4-D tensor found, or first tensor)."""
    import torch

    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.ndim else 1
    if isinstance(batch, dict):
        for key in ("image", "images", "x", "input"):
            if key in batch:
                return batch_images(batch[key])
        values = list(batch.values())
    elif isinstance(batch, (list, tuple)):
        values = list(batch)
    else:
        for key in ("images", "image", "x"):
            if hasattr(batch, key):
                return batch_images(getattr(batch, key))
        return len(batch)
    tensors = [v for v in values if isinstance(v, torch.Tensor)]
    for t in tensors:
        if t.ndim == 4:
            return int(t.shape[0])
    if tensors:
        return batch_images(tensors[0])
    return batch_images(values[0]) if values else 0


def time_loader(
    dataset: Any,
    *,
    batch_size: int,
    workers: int = 0,
    batches: int = 2,
    warmup: int = 1,
    collate_fn: Callable | None = None,
    pin_memory: bool = False,
    max_seconds: float | None = None,
    seed: int = 0,
) -> LoaderTiming:
    """Images/s of a DataLoader over ``dataset`` (decode + transforms + collate).

    Parameters
    ----------
    dataset : torch Dataset
        Map-style dataset; indices are drawn at random with replacement, so any size works.
    batch_size, workers : int
        The setting measured (``workers`` = DataLoader ``num_workers``).
    batches : int
        Batches timed; rounded up to a multiple of the worker count so every worker
        delivers the same number (in-order delivery makes the window exact then).
    warmup : int
        Rounds not timed; one round = one batch per worker (so every worker has started).
    collate_fn : callable, optional
        The project's collate function; default: PyTorch's.
    max_seconds : float, optional
        Stop timing after the first whole round that ends past this many seconds (at
        least one round is timed); ``batches`` then says how many were.

    Returns
    -------
    LoaderTiming
    """
    import torch
    from torch.utils.data import DataLoader, RandomSampler

    if batch_size < 1 or workers < 0 or batches < 1 or warmup < 0:
        raise ValueError(f"need batch_size >= 1, workers >= 0, batches >= 1, warmup >= 0; "
                         f"got {batch_size}, {workers}, {batches}, {warmup}")
    if len(dataset) == 0:
        raise ValueError("the dataset is empty: nothing to load")
    per_round = max(1, workers)
    n_warm = warmup * per_round
    n_time = math.ceil(batches / per_round) * per_round
    sampler = RandomSampler(dataset, replacement=True, num_samples=(n_warm + n_time) * batch_size,
                            generator=torch.Generator().manual_seed(seed))
    kwargs: dict[str, Any] = {"collate_fn": collate_fn} if collate_fn is not None else {}
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                        pin_memory=pin_memory, drop_last=True, **kwargs)
    t0 = time.perf_counter()
    it = iter(loader)
    try:
        for _ in range(n_warm):
            next(it)
        t1 = time.perf_counter()
        mem = process_tree_mb()
        images, n_done = 0, 0
        while n_done < n_time:
            for _ in range(per_round):
                images += batch_images(next(it))
            n_done += per_round
            if max_seconds is not None and time.perf_counter() - t1 > max_seconds:
                break
        t2 = time.perf_counter()
        mem = max(mem, process_tree_mb())
    finally:
        shutdown = getattr(it, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()
        del it
    secs = max(t2 - t1, 1e-9)
    return LoaderTiming(batch_size=batch_size, workers=workers, batches=n_done, images=images, seconds=secs,
                        images_per_s=images / secs, s_per_batch=secs / n_done, warmup_batches=n_warm,
                        warmup_s=t1 - t0, mem_mb=mem)


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is usable, else ``"cpu"``; others pass through."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device")
    return device


def time_model(
    model: Any,
    *,
    batch_size: int,
    img_size: int,
    num_classes: int,
    device: str = "cpu",
    batches: int = 2,
    warmup: int = 1,
    channels: int = 3,
    max_seconds: float | None = None,
    seed: int = 0,
) -> ModelTiming:
    """Images/s of one training step (forward, loss, backward, SGD step) on random tensors.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(batch_size, channels, img_size, img_size)`` floats to ``(batch_size,
        num_classes)`` logits, or to several heads' logits in a tuple/dict (one
        cross-entropy per head). It is moved to ``device`` and trained on noise: pass a
        copy if its weights matter.
    batches, warmup : int
        Steps timed, and steps run before timing (not timed).
    max_seconds : float, optional
        Stop timing after the first step that ends past this many seconds (at least one
        step is timed); ``batches`` then says how many were.
    """
    import torch

    if batch_size < 1 or batches < 1 or warmup < 0 or img_size < 1:
        raise ValueError(f"need batch_size >= 1, img_size >= 1, batches >= 1, warmup >= 0; "
                         f"got {batch_size}, {img_size}, {batches}, {warmup}")
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    g = torch.Generator().manual_seed(seed)
    model = model.to(dev).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-3) if params else None
    loss_fn = torch.nn.CrossEntropyLoss()
    if cuda:
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    base = process_mb()
    peak = base
    x = torch.randn(batch_size, channels, img_size, img_size, generator=g).to(dev)
    y = torch.randint(0, num_classes, (batch_size,), generator=g).to(dev)

    def step() -> float:
        loss = sum(loss_fn(t, y % t.shape[1]) for t in _logits(model(x)))
        mem = 0.0 if cuda else process_mb()
        if loss.requires_grad:
            loss.backward()
        if opt is not None:
            opt.step()
            opt.zero_grad(set_to_none=True)
        return mem

    for _ in range(warmup):
        peak = max(peak, step())
    if cuda:
        torch.cuda.synchronize(dev)
    t0 = time.perf_counter()
    done = 0
    while done < batches:
        peak = max(peak, step())
        done += 1
        if max_seconds is not None:
            if cuda:
                torch.cuda.synchronize(dev)
            if time.perf_counter() - t0 > max_seconds:
                break
    if cuda:
        torch.cuda.synchronize(dev)
    secs = max(time.perf_counter() - t0, 1e-9)
    mem = torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else max(0.0, peak - base)
    return ModelTiming(batch_size=batch_size, img_size=img_size, device=str(dev), batches=done,
                       seconds=secs, images_per_s=done * batch_size / secs, s_per_batch=secs / done,
                       mem_mb=mem)


def _logits(out: Any) -> list[Any]:
    """The 2-D logit tensors a model returned: one tensor, or several heads in a tuple/dict."""
    import torch

    if isinstance(out, torch.Tensor):
        out = [out]
    elif isinstance(out, dict):
        out = list(out.values())
    heads = [t for t in out if isinstance(t, torch.Tensor) and t.ndim == 2] if isinstance(out, (list, tuple)) else []
    if not heads:
        raise TypeError(f"the model returned {type(out).__name__}; expected (batch, classes) logits")
    return heads
