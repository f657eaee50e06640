"""A torch Dataset in torchvision's ImageFolder style, built from the exported ``labels.csv``.

>>> ds = LabelsDataset("export/labels.csv", "data/demo", transform=build_transforms(64, train=True))
>>> ds.classes[:2], ds.samples[0]            # ('wear_male_<30', ...), ('/…/mask1.jpg', 0)
>>> loader = make_loader(ds, batch_size=32, shuffle=True, workers=1)
>>> batch = next(iter(loader)); batch["image"].shape, batch["image_id"][:2]

Excluded rows never reach the Dataset. An unreadable image yields ``None`` from
``__getitem__`` with a warning; ``collate`` drops it and lists it under ``batch["skipped"]``,
so an epoch never stops on a corrupt file.
"""
from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from PIL import Image

from ..dataset.base import resolve_inside
from .labels import LabelsError, read_face_boxes, read_labels

CROPS = ("none", "center", "faces", "face-boxes")
Box = tuple[float, float, float, float]


class UnreadableImageWarning(UserWarning):
    """An image could not be decoded; it was skipped."""


def default_loader(path: str | os.PathLike[str]) -> Image.Image:
    """Decode the whole image as RGB (raises on a corrupt or truncated file)."""
    with Image.open(path) as im:
        im.load()
        return im.convert("RGB")


class ReducedLoader:
    """A loader that lets the JPEG decoder shrink by 2/4/8 while both sides stay >= ``min_side``.

    The original size is kept in ``img.info["orig_size"]`` so face boxes (given in original
    pixels) can be scaled. Non-JPEG files decode in full. A class, not a closure, so that
    DataLoader workers started with ``spawn`` can pickle it.
    """

    def __init__(self, min_side: int):
        self.min_side = int(min_side)

    def __call__(self, path: str | os.PathLike[str]) -> Image.Image:
        with Image.open(path) as im:
            orig = im.size
            if im.format == "JPEG":
                w, h = orig
                scale = max(1.0, min(w, h) / max(1, self.min_side))
                im.draft("RGB", (int(w / scale), int(h / scale)))
            im.load()
            out = im.convert("RGB")
        out.info["orig_size"] = orig
        return out


def reduced_loader(min_side: int) -> ReducedLoader:
    """``ReducedLoader(min_side)``: reduced-size JPEG decoding for training at small sizes."""
    return ReducedLoader(min_side)


def square_center_box(w: int, h: int) -> Box:
    """The centred square of side min(w, h): the consistent crop when no face box is known."""
    s = min(w, h)
    x1, y1 = (w - s) / 2, (h - s) / 2
    return (x1, y1, x1 + s, y1 + s)


def face_crop_box(box: Box, w: int, h: int, *, margin: float = 0.4) -> Box:
    """A square around a face box grown by ``margin`` of its larger side, clipped to the image.

    The margin keeps the chin and the mask's lower edge inside the crop (a tight face box can
    cut a mask worn on the chin away, which would change the label).
    """
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1.0 + margin)
    side = min(side, float(min(w, h)))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + 0.05 * side  # a little lower: the mask sits below the centre
    nx1 = min(max(0.0, cx - side / 2), w - side)
    ny1 = min(max(0.0, cy - side / 2), h - side)
    return (nx1, ny1, nx1 + side, ny1 + side)


def square_relative_box(rel: Box, w: int, h: int) -> Box:
    """A relative crop box (fractions of the image) in pixels, grown to a square about its centre
    (clipped to the image), so that resizing it to a square keeps the faces' proportions."""
    x1, y1, x2, y2 = rel[0] * w, rel[1] * h, rel[2] * w, rel[3] * h
    side = min(max(x2 - x1, y2 - y1), float(min(w, h)))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    nx1 = min(max(0.0, cx - side / 2), w - side)
    ny1 = min(max(0.0, cy - side / 2), h - side)
    return (nx1, ny1, nx1 + side, ny1 + side)


def crop_image(img: Image.Image, crop: str, box: Box | None = None, *, margin: float = 0.4) -> Image.Image:
    """Apply ``crop`` (``none``, ``center``, ``faces`` or ``face-boxes``) to a decoded image.

    ``faces``: ``box`` is ONE relative crop box (fractions of the image, the same for every
    image: the box that holds the face in N % of images, see ``labelscope.faces.boxes.crop_box``),
    grown to a square. ``face-boxes``: ``box`` is this image's own face box in original pixels
    (scaled when the loader decoded a reduced image, see ``reduced_loader``), grown by
    ``margin``. Either without a box falls back to ``center``.
    """
    if crop == "none":
        return img
    w, h = img.size
    if crop == "faces" and box is not None:
        return img.crop(tuple(round(v) for v in square_relative_box(box, w, h)))
    if crop == "face-boxes" and box is not None:
        ow, oh = img.info.get("orig_size", (w, h))
        sx, sy = w / ow, h / oh
        scaled = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
        return img.crop(tuple(round(v) for v in face_crop_box(scaled, w, h, margin=margin)))
    return img.crop(tuple(round(v) for v in square_center_box(w, h)))


class LabelsDataset(torch.utils.data.Dataset):
    """Images and class indices from an exported ``labels.csv`` (excluded rows left out).

    Parameters
    ----------
    labels_csv : path
        The exported labels file (see ``labelscope.train.labels``).
    root : path
        Dataset root every ``path`` in the CSV is relative to.
    transform : callable, optional
        Applied to the (cropped) PIL image, e.g. ``build_transforms(...)``.
    loader : callable
        ``path -> PIL.Image``; raise on an unreadable file.
    classes : list of str, optional
        Fix the class list (mask layout: the 18 competition classes by default).
    boxes : dict or path, optional
        Face boxes ``image_id -> (x1, y1, x2, y2)`` or the ``faces.parquet`` to read them from
        (``crop="face-boxes"``).
    crop : str
        ``none`` (whole image), ``center`` (centred square), ``faces`` (``crop_box`` for every
        image) or ``face-boxes`` (square around each image's face box with ``margin``; centre
        square when an image has no box).
    crop_box : (x1, y1, x2, y2) fractions of the image, optional
        The one crop of ``crop="faces"``.
    margin : float
        Extra context around a face box, as a fraction of its larger side.

    Attributes
    ----------
    samples : list of (str, int)
        ``(absolute path, class index)`` per row, as in ImageFolder.
    targets, image_ids, persons : lists, one entry per sample.
    classes, class_to_idx, layout, excluded, schema : as read by ``read_labels``.
    """

    def __init__(self, labels_csv: str | os.PathLike[str], root: str | os.PathLike[str], *,
                 transform: Callable | None = None, loader: Callable = default_loader,
                 classes: Sequence[str] | None = None, boxes: dict[str, Box] | str | os.PathLike[str] | None = None,
                 crop: str = "none", margin: float = 0.4, crop_box: Box | None = None):
        if crop not in CROPS:
            raise ValueError(f"crop must be one of {', '.join(CROPS)}, not {crop!r}")
        table = read_labels(labels_csv, classes=list(classes) if classes is not None else None)
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise LabelsError(f"dataset root {self.root} is not a folder")
        self.table = table
        self.classes: list[str] = table.classes
        self.class_to_idx: dict[str, int] = table.class_to_idx
        self.layout, self.excluded, self.schema = table.layout, table.excluded, table.schema
        self.samples: list[tuple[str, int]] = []
        for line, (rel, target) in enumerate(zip(table.df["path"], table.df["target"]), start=2):
            p = resolve_inside(self.root, str(rel))
            if p is None:
                raise LabelsError(f"{table.source}: path {rel!r} escapes the dataset root {self.root}")
            self.samples.append((str(p), int(target)))
        self.targets = [t for _, t in self.samples]
        self.image_ids: list[str] = table.df["image_id"].astype(str).tolist()
        self.persons: list[str] = [p or i for p, i in zip(table.df["person"].astype(str), self.image_ids)]
        self.boxes: dict[str, Box] = boxes if isinstance(boxes, dict) else read_face_boxes(boxes)
        if crop == "face-boxes" and not self.boxes:
            warnings.warn("crop=face-boxes but no face boxes were found; every image uses the centre crop",
                          stacklevel=2)
        if crop == "faces" and crop_box is None:
            raise ValueError("crop=faces needs crop_box: the relative box that holds the face in N% of images")
        self.crop_box = tuple(float(v) for v in crop_box) if crop_box is not None else None
        self.transform, self.loader, self.crop, self.margin = transform, loader, crop, margin

    def __len__(self) -> int:
        return len(self.samples)

    def with_transform(self, transform: Callable | None) -> "LabelsDataset":
        """A shallow copy sharing samples and boxes but applying ``transform`` (train vs eval)."""
        other = copy.copy(self)
        other.transform = transform
        return other

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        path, target = self.samples[index]
        image_id = self.image_ids[index]
        try:
            img = self.loader(path)
        except Exception as e:  # noqa: BLE001 - any decoder failure means "skip this image"
            warnings.warn(f"skipping unreadable image {image_id} ({path}): {type(e).__name__}: {e}",
                          UnreadableImageWarning, stacklevel=2)
            return None
        box = self.crop_box if self.crop == "faces" else self.boxes.get(image_id)
        img = crop_image(img, self.crop, box, margin=self.margin)
        if self.transform is not None:
            img = self.transform(img)
        return {"image": img, "target": target, "index": index, "image_id": image_id, "person": self.persons[index]}

    def __repr__(self) -> str:
        return (f"LabelsDataset({len(self)} images, {len(self.classes)} classes, layout={self.layout}, "
                f"excluded={self.excluded}, crop={self.crop}, root={str(self.root)!r})")


def collate(batch: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """Stack images and targets; keep ``image_id`` and ``person`` lists; drop unreadable items.

    Returns a dict with ``image`` (N, C, H, W), ``target`` (N,), ``index`` (N,), ``image_id``
    and ``person`` (lists of N str) and ``skipped`` (how many items were None). N may be 0
    when every item of the batch was unreadable.
    """
    items = [b for b in batch if b is not None]
    skipped = len(batch) - len(items)
    if not items:
        return {"image": torch.empty(0), "target": torch.empty(0, dtype=torch.long),
                "index": torch.empty(0, dtype=torch.long), "image_id": [], "person": [], "skipped": skipped}
    return {
        "image": torch.stack([torch.as_tensor(b["image"]) for b in items]),
        "target": torch.tensor([b["target"] for b in items], dtype=torch.long),
        "index": torch.tensor([b["index"] for b in items], dtype=torch.long),
        "image_id": [b["image_id"] for b in items],
        "person": [b["person"] for b in items],
        "skipped": skipped,
    }


def _seed_worker(worker_id: int) -> None:
    import random

    import numpy as np

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def make_loader(dataset: torch.utils.data.Dataset, *, batch_size: int = 32, shuffle: bool = False,
                workers: int = 0, device: str | torch.device = "cpu", seed: int = 0,
                drop_last: bool = False) -> torch.utils.data.DataLoader:
    """A DataLoader using ``collate``, seeded, with ``pin_memory`` on CUDA and persistent workers."""
    dev = torch.device(device)
    g = torch.Generator()
    g.manual_seed(seed)
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers, collate_fn=collate,
        pin_memory=dev.type == "cuda", drop_last=drop_last, generator=g, worker_init_fn=_seed_worker,
        persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None,
    )
