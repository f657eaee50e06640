"""Predict images with a finished run: the ensemble of its k fold models, optional flip TTA, and
the competition's submission format (``ImageID,ans``, ``ans`` = class index 0..17).

    labelscope predict runs/effnet data/demo/eval --out submission.csv [--tta] [--score TRUTH]

IMAGES is a folder holding ``info.csv`` (``ImageID,ans``) and ``images/`` (the competition's
eval layout; rows keep info.csv's order), or a plain folder of images. An image that cannot be
decoded still gets a row: its answer is the FALLBACK, the class most frequent in the run's
training labels, and a warning names the file. ``--crop face-boxes`` runs fall back to the
centre crop (no face boxes exist for new images); ``--crop faces`` runs reuse their stored box.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..dataset.mask import CLASS_NAMES
from .data import crop_image, reduced_loader
from .loop import model_from_checkpoint
from .models import input_norm
from .transforms import build_transforms

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class UnreadableEvalImageWarning(UserWarning):
    """An image to predict could not be decoded; it got the fallback answer."""


def check_competition_classes(classes: Sequence[str], run_dir: str | os.PathLike[str]) -> None:
    """Refuse a run whose classes are not the competition's 18, saying what differs."""
    if list(classes) == list(CLASS_NAMES):
        return
    missing = [c for c in CLASS_NAMES if c not in classes]
    extra = [c for c in classes if c not in CLASS_NAMES]
    what = []
    if missing:
        what.append(f"missing {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}")
    if extra:
        what.append(f"not in the competition: {', '.join(extra[:6])}{' ...' if len(extra) > 6 else ''}")
    if not what:
        what.append("the same names in another order")
    raise ValueError(f"{run_dir}: trained on {len(classes)} classes, not the competition's 18 "
                     f"(mask x gender x age group): {'; '.join(what)}")


def list_images(images: str | os.PathLike[str]) -> tuple[list[str], Path]:
    """(ImageIDs in order, folder they are in): info.csv's order, or the sorted image files."""
    root = Path(images)
    info = root / "info.csv"
    if info.is_file():
        df = pd.read_csv(info, dtype=str, keep_default_na=False)
        if "ImageID" not in df.columns:
            raise ValueError(f"{info}: no ImageID column (expected ImageID,ans)")
        folder = root / "images" if (root / "images").is_dir() else root
        return df["ImageID"].tolist(), folder
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    return sorted(p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), root


def predict_images(run_dir: str | os.PathLike[str], images: str | os.PathLike[str], *, tta: bool = False,
                   batch_size: int = 32, device: str = "cpu") -> tuple[pd.DataFrame, list[str]]:
    """Class probabilities (mean over the fold models, and over the mirror with ``tta``).

    Returns (frame with ``ImageID``, ``ans``, ``probs``; the unreadable ImageIDs).
    """
    run = Path(run_dir)
    ckpts = sorted((run / "checkpoints").glob("fold*.pt"))
    if not ckpts:
        raise FileNotFoundError(f"{run}: no checkpoints/fold*.pt; is this the RUN_DIR of a finished `labelscope train`?")
    models, cfg, classes = [], None, None
    for c in ckpts:
        model, ck = model_from_checkpoint(c, map_location=device)
        models.append(model.to(device).eval())
        cfg, classes = ck["config"], ck["classes"]
    check_competition_classes(classes, run)
    ids, folder = list_images(images)
    mean, std = input_norm(cfg["model"])
    tf = build_transforms(int(cfg["img_size"]), train=False, crop=cfg["crop"], mean=mean, std=std)
    load = reduced_loader(int(cfg["img_size"]))
    box = tuple(cfg["crop_box"]) if cfg.get("crop") == "faces" and cfg.get("crop_box") else None
    probs = np.zeros((len(ids), len(classes)), np.float32)
    ok = np.zeros(len(ids), bool)
    bad: list[str] = []
    for start in range(0, len(ids), batch_size):
        xs, rows = [], []
        for k in range(start, min(start + batch_size, len(ids))):
            path = folder / ids[k]
            try:
                img = load(path)
            except Exception as e:  # noqa: BLE001 - any decoder failure: the fallback answer
                warnings.warn(f"cannot read {path} ({type(e).__name__}: {e}); it gets the fallback answer",
                              UnreadableEvalImageWarning, stacklevel=2)
                bad.append(ids[k])
                continue
            crop = cfg["crop"] if cfg["crop"] != "face-boxes" else "center"
            xs.append(tf(crop_image(img, crop, box if crop == "faces" else None, margin=cfg.get("face_margin", 0.4))))
            rows.append(k)
        if not xs:
            continue
        x = torch.stack(xs).to(device)
        views = [x, torch.flip(x, dims=(3,))] if tta else [x]
        with torch.no_grad():
            p = sum(torch.softmax(m(v).float(), 1) for m in models for v in views) / (len(models) * len(views))
        probs[rows] = p.cpu().numpy()
        ok[rows] = True
    fallback = _fallback_class(run, classes)
    ans = np.where(ok, probs.argmax(1), fallback)
    return pd.DataFrame({"ImageID": ids, "ans": ans.astype(int), "probs": list(probs)}), bad


def _fallback_class(run: Path, classes: Sequence[str]) -> int:
    """The class most frequent in the run's training labels (from predictions.parquet)."""
    from .registry import read_predictions

    try:
        given = read_predictions(run)["given_index"].to_numpy(int)
        return int(np.bincount(given, minlength=len(classes)).argmax())
    except (FileNotFoundError, KeyError, ValueError):
        return 0


def write_submission(frame: pd.DataFrame, out: str | os.PathLike[str]) -> Path:
    from ..workspace import atomic_write

    return atomic_write(out, lambda p: frame[["ImageID", "ans"]].to_csv(p, index=False))


def score_submission(submission: str | os.PathLike[str], truth: str | os.PathLike[str]) -> dict[str, float]:
    """macro-F1 and accuracy of a submission against a truth file (both ``ImageID,ans``)."""
    from .metrics import accuracy, macro_f1

    sub = pd.read_csv(submission, dtype={"ImageID": str})
    tru = pd.read_csv(truth, dtype={"ImageID": str})
    merged = tru.merge(sub, on="ImageID", how="left", suffixes=("_true", "_pred"))
    missing = merged["ans_pred"].isna()
    if missing.any():
        raise ValueError(f"{submission}: no answer for {int(missing.sum())} image(s) of {truth}, e.g. "
                         f"{merged.loc[missing, 'ImageID'].iloc[0]}")
    y, p = merged["ans_true"].to_numpy(int), merged["ans_pred"].to_numpy(int)
    return {"macro_f1": macro_f1(y, p, 18), "accuracy": accuracy(y, p), "images": int(len(y))}
