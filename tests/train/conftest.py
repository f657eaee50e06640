"""Fixtures for the training tests: a tiny mask dataset, its labels.csv, one tiny finished run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

LABEL_COLUMNS = ["image_id", "path", "person", "mask", "gender", "age", "age_group", "class_index", "label",
                 "excluded", "changed", "last_reviewer"]
PEOPLE = [(f"{i:06d}", "male" if i % 2 else "female", "Asian", 20 + 7 * i) for i in range(8)]


STEMS = ("mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal")


def make_mask_dataset(root: Path, people=PEOPLE, size=(48, 64)) -> Path:
    """Competition layout; the mask state sets the colour so a model has something to learn."""
    rng = np.random.default_rng(0)
    lines = ["id,gender,race,age,path"]
    for pid, gender, race, age in people:
        folder = f"{pid}_{gender}_{race}_{age}"
        lines.append(f"{pid},{gender},{race},{age},{folder}")
        for k, stem in enumerate(STEMS):
            color = np.array([200, 60, 60] if k < 5 else [60, 200, 60] if k == 5 else [60, 60, 200])
            arr = np.clip(color + rng.integers(-30, 30, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
            (root / "images" / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(root / "images" / folder / f"{stem}.jpg")
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    return root


def write_labels(root: Path, out: Path, *, excluded: tuple[str, ...] = ()) -> pd.DataFrame:
    """A labels.csv in the export's mask schema for the dataset at ``root``."""
    from labelscope.dataset import load_dataset

    df = load_dataset(root).df.copy()
    df["path"] = df["image_id"]
    df["person"] = df["group_id"]
    df["excluded"] = df["image_id"].isin(excluded).astype(int)
    df["changed"] = 0
    df["last_reviewer"] = ""
    df = df[LABEL_COLUMNS]
    df.to_csv(out, index=False)
    return df


@pytest.fixture(scope="session")
def tiny_mask(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    """(dataset root, labels.csv, labels frame): 8 people x 7 photos, two photos excluded."""
    base = tmp_path_factory.mktemp("tiny")
    root = make_mask_dataset(base / "mask", PEOPLE)
    ids = sorted(p.relative_to(root).as_posix() for p in (root / "images").rglob("*.jpg"))
    df = write_labels(root, base / "labels.csv", excluded=(ids[0], ids[9]))
    return root, base / "labels.csv", df


@pytest.fixture(scope="session")
def tiny_run(tiny_mask, tmp_path_factory):
    """One finished 2-fold, 1-epoch run of the small CNN at 32 px, imported into a workspace."""
    from labelscope.train.run import TrainConfig, train

    root, labels, _ = tiny_mask
    base = tmp_path_factory.mktemp("run")
    logs: list[str] = []
    cfg = TrainConfig(str(labels), str(root), str(base / "run"), model="small", img_size=32, epochs=1, folds=2,
                      batch_size=16, workers=0, progress=False, workspace=str(base / "ws"))
    result = train(cfg, log=logs.append)
    return result, base / "ws", logs


@pytest.fixture(scope="session")
def tiny_effnet_run(tiny_mask, tmp_path_factory):
    """EfficientNet-Lite0 from its wheel at 32 px: 3 frozen-phase epochs, then 1 whole-network epoch."""
    from labelscope.train.run import TrainConfig, train

    root, labels, _ = tiny_mask
    base = tmp_path_factory.mktemp("effnet")
    logs: list[str] = []
    cfg = TrainConfig(str(labels), str(root), str(base / "run"), model="effnet", img_size=32, head_epochs=3, epochs=1,
                      folds=2, batch_size=16, workers=0, progress=False, loss="weighted")
    return train(cfg, log=logs.append), logs
