"""The registry: availability with reasons, the torch-cache backbone, the trained model's embeddings."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelscope.dataset import load_dataset
from labelscope.embed import EMBEDDERS, availability, available_embedders, compute_embeddings
from labelscope.workspace import Workspace

REQUIRED = ("pixels", "colour", "effnet", "face", "torchvision", "model")


def test_every_embedder_states_its_licence_title_and_availability(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    assert set(REQUIRED) <= set(EMBEDDERS)
    for name, spec in EMBEDDERS.items():
        assert spec.name == name and spec.title and spec.licence and spec.version
    av = availability(Workspace(tmp_path / "ws"))
    assert av["pixels"][0] and av["colour"][0]
    assert av["torchvision"] == (False, "no torchvision weights in the torch cache (TORCH_HOME); nothing is downloaded")
    assert av["model"][0] is False and "no training run" in av["model"][1]
    assert "torchvision" not in available_embedders() and "model" not in available_embedders()


@pytest.fixture
def torch_cache(tmp_path, monkeypatch):
    """A torch cache holding (randomly initialised) mobilenet_v3_small weights under their real file name."""
    import torch
    import torchvision.models as tvm

    w = tvm.MobileNet_V3_Small_Weights.IMAGENET1K_V1
    folder = tmp_path / "torch-home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(tvm.mobilenet_v3_small().state_dict(), folder / w.url.rsplit("/", 1)[1])
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    return folder


def test_torchvision_backbone_comes_from_the_cache_only(torch_cache, mask_dataset, tmp_path):
    ok, why = EMBEDDERS["torchvision"].is_available()
    assert ok and "mobilenet_v3_small" in why
    emb = compute_embeddings(load_dataset(mask_dataset), tmp_path / "ws", "torchvision", threads=1)
    assert emb.vectors.shape == (21, 1024)  # classifier head dropped: the penultimate layer
    assert emb.meta["backbone"] == "mobilenet_v3_small" and np.isfinite(emb.vectors).all()
    assert emb.vectors.std(axis=0).max() > 0  # different images, different vectors


def write_run(folder, ids, vectors, run="r1"):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"image_id": ids, "embedding": [list(map(float, v)) for v in vectors]}).to_parquet(
        folder / "predictions.parquet")
    (folder / "metrics.json").write_text(json.dumps({"run": run, "finished": run}))
    return folder


def test_model_embeddings_follow_the_newest_imported_run(mask_dataset, tmp_path):
    from labelscope.train.registry import import_predictions

    m = load_dataset(mask_dataset)
    ws = Workspace(tmp_path / "ws")
    ids = m.df["image_id"].tolist()
    first = np.arange(21 * 4, dtype=np.float32).reshape(21, 4)
    import_predictions(write_run(tmp_path / "run1", ids[:20], first[:20], "r1"), ws)  # one image not predicted
    assert EMBEDDERS["model"].is_available(ws)[0]
    emb = compute_embeddings(m, ws, "model")
    assert emb.image_ids == ids[:20] and emb.missing == [ids[20]]
    assert np.array_equal(emb.vectors, first[:20]) and emb.meta["run"] == "r1"
    second = -np.ones((21, 8), dtype=np.float32)
    import_predictions(write_run(tmp_path / "run2", ids, second, "r2"), ws)
    emb = compute_embeddings(m, ws, "model")
    assert emb.dim == 8 and len(emb) == 21 and emb.meta["run"] == "r2"
