"""The demo's injected noise comes out on top of the suspects table (the issue's demo check).

Uses the Makefile's 200-person demo (``data/demo``, made by ``make demo`` before ``make test``)
when it is there, else draws one (slow). The workspace is private to the test. Embedding
pipeline (EfficientNet-Lite0), not a trained model: k-fold training of a CNN on 1,400 photos
does not fit in test time on two CPU cores.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, require
from labelscope.config import Settings
from labelscope.embed import available_embedders
from labelscope.issues.pipeline import compute_suspects

PEOPLE = 200


@pytest.fixture(scope="module")
def demo200(tmp_path_factory) -> Path:
    made = REPO / "data" / "demo"
    marker = made / ".labelscope-demo.json"
    if marker.is_file() and (made / "noise_truth.csv").is_file():
        info = json.loads(marker.read_text())
        if info.get("complete") and info.get("people") == PEOPLE:
            return made
    from labelscope.demo import make_demo

    out = tmp_path_factory.mktemp("demo200") / "demo"
    make_demo(out, people=PEOPLE, seed=0)
    return out


@pytest.mark.slow
def test_injected_person_faults_rank_first_and_duplicates_are_listed(demo200, tmp_path):
    require("effnet" in available_embedders(), "the EfficientNet-Lite0 embedder is not installed")
    settings = Settings.build(demo200, workspace=tmp_path / "ws")
    cached = demo200 / ".labelscope" / "embeddings" / "effnet.npz"
    if cached.is_file():  # reused only for files whose size and mtime still match
        (tmp_path / "ws" / "embeddings").mkdir(parents=True)
        shutil.copy2(cached, tmp_path / "ws" / "embeddings" / "effnet.npz")
    table = compute_suspects(settings, embedders=("effnet",))
    truth = pd.read_csv(demo200 / "noise_truth.csv", dtype=str, keep_default_na=False)
    injected = {(r.person, "mask" if r.kind == "swap" else r.kind) for r in truth.itertuples()
                if r.kind in ("gender", "age", "swap")}
    top = table.head(2 * len(injected))
    found = injected & set(zip(top["person"], top["field"]))
    assert len(found) >= 0.9 * len(injected), sorted(injected - found)
    listed = set(table["image_id"]) | {i for s in table["images"] for i in s.split(";") if i}
    for r in truth[truth["kind"] == "duplicate"].itertuples():
        assert r.image_id in listed and r.true in listed
    broken = truth.loc[truth["kind"] == "unreadable", "image_id"].tolist()
    assert set(broken) <= set(table.loc[table["issue"] == "quality", "image_id"])
    assert (settings.workspace / "suspects.parquet").is_file()
