"""What the frozen phase trains on: the one face crop box of a run, and backbone features of
every image computed once per image and setting in this process (``cached_features``)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..workspace import fingerprint
from .config import TrainConfig, faces_path
from .data import LabelsDataset, make_loader
from .head import FeatureSet, backbone_features
from .models import build_model


def face_crop_box(cfg: TrainConfig, image_ids: list[str]) -> tuple[float, float, float, float]:
    """The one relative crop box that holds the face in ``cfg.face_coverage`` of the images.

    From the workspace's ``faces.parquet`` (any detector: ``labelscope faces --backend ...``),
    with the images of this labels file; the Faces page shows the same box.
    """
    from ..faces.boxes import crop_box, relative_boxes
    from ..faces.stage import load_faces
    from ..workspace import Workspace

    path = faces_path(cfg)
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"--crop faces needs face boxes: no {path}; run `labelscope faces DATASET` first "
                                "(or pass --faces PARQUET, or --crop center)")
    faces = load_faces(Workspace(Path(path).parent)) if Path(path).name == "faces.parquet" else None
    if faces is None:
        import pandas as pd

        faces = pd.read_parquet(path)
    faces = faces[faces["image_id"].astype(str).isin(set(image_ids))]
    rel = relative_boxes(faces)
    if rel.empty:
        raise ValueError(f"{path}: no face box for any image of the labels file; run `labelscope faces` on it")
    box = crop_box(rel, coverage=cfg.face_coverage)
    return (round(box.x1, 4), round(box.y1, 4), round(box.x2, 4), round(box.y2, 4))


# setting -> {(path, size, mtime_ns): (features, mirrored features)}; one setting kept per process
_FEATURE_CACHE: dict[tuple, dict[tuple, tuple[np.ndarray, np.ndarray | None]]] = {}


def _stamp(path: str) -> tuple:
    return (path, *fingerprint(path))


def cached_features(cfg: TrainConfig, val_ds: LabelsDataset, *, weights: Path | None, device: torch.device,
                    workers: int, log: Callable[[str], None]) -> FeatureSet:
    """Backbone features of every image (and its mirror), computed once per image and setting in
    this process: another run on the same images (other labels, some excluded) reuses them."""
    boxes = tuple(sorted(val_ds.boxes.items())) if cfg.crop == "face-boxes" else ()
    setting = (cfg.model, str(weights), cfg.img_size, cfg.crop, cfg.crop_box, cfg.face_margin, boxes)
    known = _FEATURE_CACHE.get(setting, {})
    stamps = [_stamp(p) for p, _ in val_ds.samples]
    todo = [i for i, st in enumerate(stamps) if st not in known]
    t0 = time.perf_counter()
    skipped = 0
    if todo:
        model = build_model(cfg.model, len(val_ds.classes), pretrained=cfg.pretrained).to(device)
        loader = make_loader(torch.utils.data.Subset(val_ds, todo), batch_size=cfg.batch_size * 2, workers=workers,
                             device=device)
        fs = backbone_features(model.backbone, loader, len(val_ds), device=device,
                               amp=cfg.amp and device.type == "cuda")
        skipped = fs.skipped
        for i in np.flatnonzero(fs.ok):
            known[stamps[i]] = (fs.feats[i], fs.flipped[i] if fs.flipped is not None else None)
        _FEATURE_CACHE.clear()
        _FEATURE_CACHE[setting] = known
    ok = np.array([st in known for st in stamps])
    if not ok.any():
        raise ValueError("no image could be read: nothing to compute features of")
    dim = len(next(iter(known.values()))[0])
    feats = np.zeros((len(stamps), dim), np.float32)
    flipped = np.zeros((len(stamps), dim), np.float32)
    for i in np.flatnonzero(ok):
        f, ff = known[stamps[i]]
        feats[i], flipped[i] = f, ff if ff is not None else f
    secs = time.perf_counter() - t0
    fs = FeatureSet(feats, flipped, ok, secs, skipped)
    log(f"frozen phase: backbone features of {int(ok.sum())} images (+ mirrored): {len(todo)} computed in "
        f"{secs:.0f} s, {len(stamps) - len(todo)} reused from earlier in this process")
    return fs
