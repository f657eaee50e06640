"""Transform order: the same augmentations in two orders, timed on the same images.

The seed's lesson: resizing a photo up to 512 px and then rotating it costs more than rotating
the original and resizing afterwards, though both give images of the same size. This module
measures it on the user's own images (and works for any two pipelines).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import pandas as pd

Transform = Callable[[Any], Any]


@dataclass(frozen=True)
class OrderComparison:
    """Two orders of the same transforms, timed on the same images.

    Attributes
    ----------
    table : DataFrame
        One row per order: ``order``, ``steps`` (the pipeline, in words), ``images``,
        ``seconds`` (best of the repeats for one pass over the images), ``images_per_s``,
        ``ms_per_image``, ``out_size`` (the most common output size, ``WxH`` in pixels).
    ratio : float
        Seconds of the first order / seconds of the second (> 1: the second is faster).
    same_size : bool
        Every image came out of both orders with the same height and width.
    faster : str
        Name of the faster order.
    """

    table: pd.DataFrame
    ratio: float
    same_size: bool
    faster: str
    repeats: int = 1
    threads: int = 1
    note: str = field(default="")

    def to_dict(self) -> dict:
        return {"orders": self.table.to_dict(orient="records"), "ratio": self.ratio, "same_size": self.same_size,
                "faster": self.faster, "repeats": self.repeats, "threads": self.threads, "note": self.note}


def seed_orders(size: int = 512, degrees: float = 10.0) -> dict[str, Transform]:
    """The seed's two pipelines on a ``(C, H, W)`` uint8 tensor (as after ``v2.ToImage``).

    ``resize_then_rotate``: ``Resize(size)`` (shorter side to ``size``, aspect kept), then
    ``RandomRotation(degrees)``; ``rotate_then_resize``: the same two steps swapped. The
    rotation is the one ``labelscope.train.transforms.build_transforms`` uses.
    """
    from torchvision.transforms import v2

    resize = v2.Resize(size, antialias=True)
    rotate = v2.RandomRotation(degrees)
    return {"resize_then_rotate": v2.Compose([resize, rotate]),
            "rotate_then_resize": v2.Compose([rotate, resize])}


def _steps(t: Transform) -> str:
    inner = getattr(t, "transforms", None)
    if inner:
        return " -> ".join(_steps(s) for s in inner)
    r = repr(t).replace("\n", " ")
    return " ".join(r.split())


def _size(img: Any) -> tuple[int, int]:
    if hasattr(img, "shape"):
        return int(img.shape[-2]), int(img.shape[-1])
    w, h = img.size  # PIL
    return int(h), int(w)


def compare_transform_orders(
    images: Sequence[Any],
    *,
    orders: dict[str, Transform] | None = None,
    size: int = 512,
    degrees: float = 10.0,
    repeats: int = 3,
    threads: int = 1,
    seed: int = 0,
) -> OrderComparison:
    """Time two transform pipelines on the same images; compare speed and output size.

    Parameters
    ----------
    images : sequence of images
        Decoded images the transforms accept (``(C, H, W)`` uint8 tensors for the default
        orders; see ``images_from_paths``).
    orders : dict of two named transforms, optional
        Default: ``seed_orders(size, degrees)`` (resize to ``size`` then rotate, versus
        rotate then resize).
    repeats : int
        Passes per order, interleaved (A, B, A, B...); the fastest pass of each counts, which
        damps noise from other processes.
    threads : int
        torch CPU threads while timing (default 1, as inside a DataLoader worker, where
        training runs its transforms; 0 leaves torch's setting).
    seed : int
        torch's RNG is reset to it before every pass, so both orders draw the same angles.

    Returns
    -------
    OrderComparison
    """
    import torch

    if not images:
        raise ValueError("no images to time the transform orders on")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    orders = orders or seed_orders(size, degrees)
    if len(orders) != 2:
        raise ValueError(f"need exactly two orders to compare, got {len(orders)}")
    before = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        best, sizes = _time_orders(orders, images, repeats, seed)
    finally:
        torch.set_num_threads(before)
    names = list(orders)
    rows = []
    for n in names:
        s = best[n]
        common = pd.Series([f"{w}x{h}" for h, w in sizes[n]]).mode().iloc[0]
        rows.append({"order": n, "steps": _steps(orders[n]), "images": len(images), "seconds": s,
                     "images_per_s": len(images) / max(s, 1e-9), "ms_per_image": 1000 * s / len(images),
                     "out_size": common})
    a, b = best[names[0]], best[names[1]]
    ratio = a / max(b, 1e-12)
    same = sizes[names[0]] == sizes[names[1]]
    faster = names[1] if ratio > 1 else names[0]
    return OrderComparison(table=pd.DataFrame(rows), ratio=float(ratio), same_size=bool(same), faster=faster,
                           repeats=repeats, threads=threads or before)


def _time_orders(orders: dict[str, Transform], images: Sequence[Any], repeats: int,
                 seed: int) -> tuple[dict[str, float], dict[str, list[tuple[int, int]]]]:
    """Best pass time per order (interleaved passes) and the output sizes of the first pass."""
    import torch

    best = {n: float("inf") for n in orders}
    sizes: dict[str, list[tuple[int, int]]] = {}
    for r in range(repeats):
        for n in orders:
            torch.manual_seed(seed)
            t0 = time.perf_counter()
            outs = [orders[n](img) for img in images]
            best[n] = min(best[n], time.perf_counter() - t0)
            if r == 0:
                sizes[n] = [_size(o) for o in outs]
    return best, sizes


def images_from_paths(paths: Sequence[Any]) -> list[Any]:
    """Decode image files to ``(3, H, W)`` uint8 tensors, as ``v2.ToImage`` would give them.

    Files that cannot be decoded are left out.
    """
    from PIL import Image
    from torchvision.transforms.v2 import functional as F

    out = []
    for p in paths:
        try:
            with Image.open(p) as im:
                out.append(F.pil_to_tensor(im.convert("RGB")))
        except (OSError, ValueError, SyntaxError):
            continue
    return out
