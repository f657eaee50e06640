"""The training Dataset, built straight from a dataset's Manifest (no export needed).

The feeding lab measures the same pipeline training runs: ``LabelsDataset`` with the
training loader and transforms. ``LabelsDataset`` reads a ``labels.csv``; ``labels_frame``
writes that shape from the Manifest (every image kept, the Manifest's labels).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..dataset import Manifest, load_dataset

DECODES = ("reduced", "full")


def as_manifest(source: str | os.PathLike[str] | Manifest, *, layout: str = "auto") -> Manifest:
    """A Manifest as given, or loaded from a dataset path (raises DatasetError when unusable)."""
    return source if isinstance(source, Manifest) else load_dataset(source, layout)


def labels_frame(manifest: Manifest) -> pd.DataFrame:
    """The Manifest as a ``labels.csv``-shaped table (see ``labelscope.train.labels``).

    Columns ``image_id``, ``path`` (= image_id, relative to the root), ``person`` (the
    group), the schema's label columns (mask layout: ``mask, gender, age, age_group,
    class_index``), ``label`` and
    ``excluded`` (all 0).
    """
    df = manifest.df
    if df.empty:
        raise ValueError(f"{manifest.source}: the dataset has no usable image")
    out = pd.DataFrame({"image_id": df["image_id"].astype(str), "path": df["image_id"].astype(str),
                        "person": df["group_id"].astype(str) if "group_id" in df else ""})
    for c in manifest.schema.label_columns:
        out[c] = df[c].values
    out["label"] = df["label"].astype(str).values
    out["excluded"] = 0
    return out


def build_dataset(
    manifest: Manifest,
    *,
    img_size: int,
    transform: Callable | None = None,
    decode: str = "reduced",
    crop: str = "none",
    faces: str | os.PathLike[str] | None = None,
) -> Any:
    """``LabelsDataset`` over every image of ``manifest`` with training's loader and transforms.

    Parameters
    ----------
    img_size : int
        Training image size (the transforms' output side).
    transform : callable, optional
        Replace training's augmenting transform (``build_transforms(img_size, train=True,
        crop=crop)``), e.g. to measure a pipeline of your own.
    decode : str
        ``reduced`` (training's default: JPEG draft decode to >= ``img_size``) or ``full``.
    crop : str
        ``none``, ``center`` or ``faces`` (boxes read from ``faces``, a ``faces.parquet``).
    """
    from ..train.data import LabelsDataset, default_loader, reduced_loader
    from ..train.transforms import build_transforms

    if decode not in DECODES:
        raise ValueError(f"decode must be one of {', '.join(DECODES)}, not {decode!r}")
    loader = reduced_loader(img_size) if decode == "reduced" else default_loader
    tf = transform if transform is not None else build_transforms(img_size, train=True, crop=crop)
    with tempfile.TemporaryDirectory(prefix="labelscope-feeding-") as tmp:
        csv = Path(tmp) / "labels.csv"
        labels_frame(manifest).to_csv(csv, index=False)
        boxes = faces if crop == "faces" else None
        return LabelsDataset(csv, manifest.root, transform=tf, loader=loader, crop=crop, boxes=boxes)


def sample_ids(manifest: Manifest, n: int, *, seed: int = 0) -> list[str]:
    """Up to ``n`` image ids drawn at random (seeded), in Manifest order."""
    ids = manifest.df["image_id"].astype(str).to_numpy()
    if n >= len(ids):
        return ids.tolist()
    pick = np.sort(np.random.default_rng(seed).choice(len(ids), size=n, replace=False))
    return ids[pick].tolist()
