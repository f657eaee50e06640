"""The whole lab in one call: loader alone, model alone, verdicts, orders, decoders, advice."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import pandas as pd

from ..dataset import Manifest
from .measure import resolve_device, time_loader, time_model
from .orders import OrderComparison
from .suggest import suggestions
from .verdict import BestSetting, best_setting, verdicts

Progress = Callable[[int, int, str], None]


@dataclass
class FeedingReport:
    """Everything the lab measured, and what it concludes.

    Attributes
    ----------
    config : dict
        The options the measurements ran with (model, img_size, device, batches...).
    loader : DataFrame
        One ``LoaderTiming`` row per (batch size, workers).
    model : DataFrame
        One ``ModelTiming`` row per batch size.
    verdicts : DataFrame
        ``labelscope.feeding.verdict.verdicts(loader, model)``.
    best : BestSetting or None
    orders : OrderComparison or None
    decode : DataFrame or None
    suggestions : list of str
    """

    config: dict[str, Any]
    loader: pd.DataFrame
    model: pd.DataFrame
    verdicts: pd.DataFrame
    best: BestSetting | None
    orders: OrderComparison | None = None
    decode: pd.DataFrame | None = None
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN and infinities become None)."""
        return _clean({
            "config": self.config,
            "loader": self.loader.to_dict(orient="records"),
            "model": self.model.to_dict(orient="records"),
            "verdicts": self.verdicts.to_dict(orient="records"),
            "best": self.best.to_dict() if self.best else None,
            "transform_order": self.orders.to_dict() if self.orders else None,
            "decode": self.decode.to_dict(orient="records") if self.decode is not None else None,
            "suggestions": list(self.suggestions),
        })


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()  # numpy scalar
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def measure_feeding(
    dataset: Any,
    model: Any,
    *,
    img_size: int,
    num_classes: int,
    batch_sizes: Sequence[int] = (16, 32, 64, 128),
    workers: Sequence[int] = (0, 1, 2),
    device: str = "auto",
    batches: int = 2,
    warmup: int = 1,
    collate_fn: Callable | None = None,
    threads: int = 0,
    max_seconds: float | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time the loader at every (batch size, workers) and the model at every batch size.

    Parameters
    ----------
    dataset : torch Dataset
        Yields what ``collate_fn`` batches (the project's ``LabelsDataset`` and ``collate``).
    model : torch.nn.Module
        Timed on synthetic ``(batch, 3, img_size, img_size)`` tensors on ``device``.
    threads : int
        torch CPU threads in this process while measuring (0: leave torch's setting, which
        is the number of cores, as in training); DataLoader workers always use one.
    max_seconds : float, optional
        Per setting, stop timing early once this many seconds have passed (at least one
        batch, or one round of worker batches, is always timed).
    progress : callable, optional
        ``progress(done, total, what)`` after each measurement.

    Returns
    -------
    (loader, model) : two DataFrames of ``LoaderTiming`` and ``ModelTiming`` rows.
    """
    import torch

    bss, wks = _positive(batch_sizes, "batch sizes", 1), _positive(workers, "worker counts", 0)
    dev = resolve_device(device)
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        return _measure(dataset, model, bss, wks, dev, img_size=img_size, num_classes=num_classes, batches=batches,
                        warmup=warmup, collate_fn=collate_fn, max_seconds=max_seconds, progress=progress,
                        seed=seed)
    finally:
        torch.set_num_threads(before)


def _measure(dataset: Any, model: Any, bss: list[int], wks: list[int], dev: str, *, img_size: int,
             num_classes: int, batches: int, warmup: int, collate_fn: Callable | None,
             max_seconds: float | None, progress: Progress | None, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    total, done = len(bss) * len(wks) + len(bss), 0
    lrows, mrows = [], []
    for w in wks:
        for b in bss:
            lrows.append(time_loader(dataset, batch_size=b, workers=w, batches=batches, warmup=warmup,
                                     collate_fn=collate_fn, pin_memory=dev.startswith("cuda"), max_seconds=max_seconds,
                                     seed=seed).to_dict())
            done += 1
            if progress:
                progress(done, total, f"loader: batch {b}, {w} workers")
    for b in bss:
        mrows.append(time_model(model, batch_size=b, img_size=img_size, num_classes=num_classes, device=dev,
                                batches=batches, warmup=warmup, max_seconds=max_seconds, seed=seed).to_dict())
        done += 1
        if progress:
            progress(done, total, f"model: batch {b}")
    return pd.DataFrame(lrows), pd.DataFrame(mrows)


def _positive(values: Sequence[int], what: str, minimum: int) -> list[int]:
    vals = sorted({int(v) for v in values})
    if not vals or vals[0] < minimum:
        raise ValueError(f"{what} must be integers >= {minimum}, got {list(values)}")
    return vals


def feeding_report(
    source: str | os.PathLike[str] | Manifest,
    *,
    model: str | Any = "small",
    img_size: int = 128,
    batch_sizes: Sequence[int] = (16, 32, 64, 128),
    workers: Sequence[int] = (0, 1, 2),
    device: str = "auto",
    batches: int = 2,
    warmup: int = 1,
    decode: str = "reduced",
    crop: str = "none",
    freeze_backbone: bool = False,
    transform: Callable | None = None,
    threads: int = 0,
    max_seconds: float | None = None,
    layout: str = "auto",
    workspace: str | os.PathLike[str] | None = None,
    compare_orders: bool = True,
    compare_decode: bool = True,
    sample: int = 16,
    order_size: int = 512,
    progress: Progress | None = None,
    seed: int = 0,
) -> FeedingReport:
    """Run the feeding lab on a dataset with training's own Dataset, transforms and model.

    Parameters
    ----------
    source : path or Manifest
        The dataset (any layout ``load_dataset`` reads).
    model : str or torch.nn.Module
        ``small``, ``resnet18`` or ``vgg16`` (built without pretrained weights: speed does
        not depend on them), or a module of your own.
    img_size, batch_sizes, workers, device, batches, warmup
        The settings measured; ``batches`` timed per setting after ``warmup`` (see
        ``time_loader`` and ``time_model``).
    decode, crop, freeze_backbone
        As in training (``decode="reduced"`` is training's JPEG draft loader).
    transform : callable, optional
        Replace training's augmenting transform (it must output ``(3, img_size, img_size)``).
    threads : int
        torch CPU threads while measuring (0: torch's default, the number of cores).
    max_seconds : float, optional
        Per setting, stop timing early past this many seconds (see ``measure_feeding``).
    workspace : path, optional
        Where the scan's thumbnails and face boxes are (default: the dataset's workspace).
    compare_orders, compare_decode : bool
        Also time the transform-order and decode-option comparisons on ``sample`` images.
    order_size : int
        The "resize to" size of the transform-order comparison (the seed's 512).

    Returns
    -------
    FeedingReport
    """
    import torch

    from ..config import default_workspace
    from ..train.data import collate
    from .dataset import as_manifest, build_dataset

    manifest = as_manifest(source, layout=layout)
    ws = os.fspath(workspace) if workspace is not None else os.fspath(default_workspace(manifest.source))
    ds = build_dataset(manifest, img_size=img_size, transform=transform, decode=decode, crop=crop,
                       faces=os.path.join(ws, "faces.parquet"))
    net, model_name = _model(model, len(ds.classes), freeze_backbone)
    dev = resolve_device(device)
    n_extra = int(compare_orders) + int(compare_decode)
    n_main = len(set(batch_sizes)) * (len(set(workers)) + 1)

    def sub(done: int, total: int, what: str) -> None:
        if progress:
            progress(done, total + n_extra, what)

    loader, model_df = measure_feeding(ds, net, img_size=img_size, num_classes=len(ds.classes),
                                       batch_sizes=batch_sizes, workers=workers, device=dev, batches=batches,
                                       warmup=warmup, collate_fn=collate, threads=threads, max_seconds=max_seconds,
                                       progress=sub, seed=seed)
    table = verdicts(loader, model_df)
    best = best_setting(table)
    orders = dec = None
    if compare_orders:
        orders = _orders(manifest, sample, order_size, seed)
        sub(n_main + 1, n_main, "transform orders")
    if compare_decode:
        dec = _decoders(manifest, ws, sample, img_size, seed)
        sub(n_main + n_extra, n_main, "decode options")
    cfg = {"dataset": str(manifest.source), "images": len(ds), "classes": len(ds.classes), "model": model_name,
           "img_size": img_size, "batch_sizes": sorted(set(batch_sizes)), "workers": sorted(set(workers)),
           "device": dev, "batches": batches, "warmup": warmup, "max_seconds": max_seconds, "decode": decode, "crop": crop,
           "freeze_backbone": freeze_backbone, "custom_transform": transform is not None,
           "cpu_count": os.cpu_count() or 1, "torch_threads": threads or torch.get_num_threads(), "torch": torch.__version__,
           "weights_note": getattr(net, "weights_note", "")}
    tips = suggestions(table, best, loader=loader, model=model_df, orders=orders, decode=dec, device=dev,
                       cpu_count=cfg["cpu_count"], img_size=img_size, current_decode=decode)
    return FeedingReport(cfg, loader, model_df, table, best, orders, dec, tips)


def _model(model: str | Any, num_classes: int, freeze_backbone: bool) -> tuple[Any, str]:
    if isinstance(model, str):
        from ..train.models import build_model

        return build_model(model, num_classes, pretrained="none", freeze_backbone=freeze_backbone), model
    return model, type(model).__name__


def _orders(manifest: Manifest, sample: int, size: int, seed: int) -> OrderComparison:
    from .dataset import sample_ids
    from .orders import compare_transform_orders, images_from_paths

    ids = sample_ids(manifest, sample, seed=seed)
    return compare_transform_orders(images_from_paths([manifest.path_of(i) for i in ids]), size=size, seed=seed)


def _decoders(manifest: Manifest, ws: str, sample: int, img_size: int, seed: int) -> pd.DataFrame:
    from .dataset import sample_ids
    from .decode import compare_decoders

    ids = sample_ids(manifest, sample, seed=seed)
    return compare_decoders([manifest.path_of(i) for i in ids], target=img_size, image_ids=ids,
                            thumbs=_thumb_source(ws))


def _thumb_source(ws: str) -> Callable[[list[str]], Any] | None:
    """``ids -> thumbnails`` from the scan cache, or None when there is no scan (or no scan module)."""
    if not os.path.isfile(os.path.join(ws, "thumbs.parquet")):
        return None
    try:
        from ..scan import load_thumbs
    except ImportError:
        return None
    return lambda ids: load_thumbs(ws, ids)
