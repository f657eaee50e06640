"""Scoring a suspects ranking against known truth, and the raw-pixel baseline it must beat.

Used by ``bench/suspects.py`` and ``tests/issues/test_real_photos.py``: build an ImageFolder with a share of labels
flipped at random, rank it, and compare precision@k (k = number flipped), recall@2k and AUROC.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from labelscope.dataset import Manifest
from labelscope.dataset.mask import age_group

ALL_TASKS = ("mask", "mask3", "gender_age")


def task_sources(data: Path, task: str) -> dict[str, list[Path]]:
    """Class name -> source photos of a task on the shared real photos (``$LABELSCOPE_TEST_DATA``).

    ``mask``: faces_mask with_mask / without_mask; ``mask3`` adds mask_weared_incorrect;
    ``gender_age``: utkface_age_gender as gender x age group (6 classes, from labels.csv).
    """
    if task in ("mask", "mask3"):
        root = data / "faces_mask"
        classes = ["with_mask", "without_mask"] + (["mask_weared_incorrect"] if task == "mask3" else [])
        return {c: sorted((root / c).glob("*.jpg")) for c in classes}
    if task == "gender_age":
        root = data / "utkface_age_gender"
        labels = pd.read_csv(root / "labels.csv")
        labels = labels[labels["filename_parse"] == "ok"]
        out: dict[str, list[Path]] = {}
        for r in labels.itertuples():
            group = age_group(int(r.age))
            out.setdefault(f"{r.gender}_{group}", []).append(root / "images" / r.file)
        return {k: sorted(v) for k, v in sorted(out.items())}
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(ALL_TASKS)}")


def build_flipped_folder(sources: dict[str, list[Path]], out: Path, *, rate: float = 0.1, seed: int = 0
                         ) -> pd.DataFrame:
    """Lay out ``out/<given class>/<true class>__<file>`` with ``rate`` of labels flipped at random.

    Files keep their source's mtime (``copy2``) and stay in place from one seed to the next
    when their given class does not change, so cached embeddings of them are reused: only
    the flipped images are new for a new seed. Returns the truth table: ``image_id``,
    ``true``, ``given``, ``flipped``.
    """
    rng = np.random.default_rng(seed)
    items = [(c, p) for c in sources for p in sources[c]]
    classes = list(sources)
    flip = np.zeros(len(items), bool)
    flip[rng.choice(len(items), size=int(round(rate * len(items))), replace=False)] = True
    rows = []
    for (true, src), f in zip(items, flip):
        given = str(rng.choice([c for c in classes if c != true])) if f else true
        rows.append({"image_id": f"{given}/{true}__{src.name}", "true": true, "given": given, "flipped": bool(f),
                     "source": src})
    truth = pd.DataFrame(rows)
    wanted = set(truth["image_id"])
    if out.is_dir():
        for p in out.glob("*/*"):
            if p.relative_to(out).as_posix() not in wanted:
                p.unlink()
    for r in truth.itertuples():
        dst = out / r.image_id
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(r.source, dst)
    return truth.drop(columns="source")


def ranking_metrics(truth: pd.DataFrame, scores: pd.Series) -> dict[str, float]:
    """precision@k (k = flipped), recall@2k and AUROC; ``scores`` by image_id, low = suspicious."""
    from sklearn.metrics import roc_auc_score

    t = truth.set_index("image_id")
    s = scores.reindex(t.index).fillna(1.0)
    y = t["flipped"].to_numpy()
    order = np.argsort(s.to_numpy(), kind="stable")
    k = int(y.sum())
    return {"precision@k": float(y[order[:k]].mean()), "recall@2k": float(y[order[:2 * k]].sum() / k),
            "auroc": float(roc_auc_score(y, -s.to_numpy())), "k": k}


def pixel_baseline(manifest: Manifest, *, side: int = 32, dim: int = 64) -> pd.Series:
    """cleanlab self-confidence on out-of-fold logistic regression over raw-pixel PCA features."""
    from PIL import Image
    from sklearn.decomposition import PCA

    from labelscope.issues.label import label_quality
    from labelscope.issues.probs import oof_logistic

    X = np.stack([np.asarray(Image.open(manifest.root / i).convert("RGB").resize((side, side)), np.float32).ravel()
                  / 255.0 for i in manifest.df["image_id"]])
    X = PCA(n_components=dim, random_state=0).fit_transform(X - X.mean(axis=0))
    classes = manifest.classes
    y = manifest.df["label"].map({c: k for k, c in enumerate(classes)}).to_numpy()
    p, _ = oof_logistic(X, y, n_classes=len(classes), Cs=(1.0,))
    return pd.Series(label_quality(y, p), index=manifest.df["image_id"].to_numpy())
