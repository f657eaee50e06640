"""Loader and model timed through the library with injected slowness: the verdict follows.

A transform that sleeps 100 ms per image makes the loader the bottleneck; a model that sleeps
0.5 s per batch makes the model the bottleneck. Both margins are far beyond timing noise (even
on a busy shared machine: one torch thread, batches of 8 for the tiny model), and the tests
check that every verdict is the one its own reported numbers imply.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import make_mask_dataset
from labelscope.cli import main
from labelscope.feeding import feeding_report, time_loader
from labelscope.feeding.measure import batch_images

IMG = 32


class QuickTransform:
    """PIL -> (3, IMG, IMG) float tensor without torch's thread pool (cheap and predictable)."""

    def __call__(self, img):
        arr = np.asarray(img.resize((IMG, IMG)), dtype=np.float32) / 255.0
        return torch.from_numpy(arr.transpose(2, 0, 1).copy())


class SleepyTransform(QuickTransform):
    def __init__(self, seconds: float):
        self.seconds = seconds

    def __call__(self, img):
        time.sleep(self.seconds)
        return super().__call__(img)


class TinyModel(nn.Module):
    def __init__(self, num_classes: int = 18, sleep: float = 0.0):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=4)
        self.head = nn.Linear(4, num_classes)
        self.sleep = sleep

    def forward(self, x):
        if self.sleep:
            time.sleep(self.sleep)
        return self.head(self.conv(x).mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def tiny_mask(tmp_path_factory) -> Path:
    return make_mask_dataset(tmp_path_factory.mktemp("feeding") / "mask")


def consistent(report) -> None:
    """Every verdict row is what the reported loader and model numbers imply."""
    lo = report.loader.set_index(["batch_size", "workers"])["images_per_s"]
    mo = report.model.set_index("batch_size")["images_per_s"]
    assert len(report.verdicts) == len(report.loader)
    for r in report.verdicts.itertuples(index=False):
        assert r.loader_ips == lo[(r.batch_size, r.workers)] and r.model_ips == mo[r.batch_size]
        assert r.bound == ("loader" if r.loader_ips < r.model_ips else "model")
        assert r.factor == pytest.approx(max(r.loader_ips, r.model_ips) / min(r.loader_ips, r.model_ips))
    for r in report.loader.itertuples(index=False):
        assert r.images == r.batches * r.batch_size and r.images_per_s == pytest.approx(r.images / r.seconds)


def test_slow_transform_makes_the_loader_the_bottleneck(tiny_mask):
    before = torch.get_num_threads()
    r = feeding_report(tiny_mask, model=TinyModel(), img_size=IMG, batch_sizes=[8], workers=[0, 2], batches=1,
                       transform=SleepyTransform(0.1), threads=1, compare_orders=False, compare_decode=False)
    consistent(r)
    assert set(r.verdicts["bound"]) == {"loader"}
    assert (r.verdicts["factor"] > 2).all()
    assert r.best is not None and not r.best.fed
    assert r.config["torch_threads"] == 1 and torch.get_num_threads() == before  # restored afterwards
    rates = r.loader.set_index("workers")["images_per_s"]
    assert rates[0] < 1 / 0.1 * 1.05           # at most 10 images/s when each sleeps 100 ms
    assert rates[2] > 1.3 * rates[0]           # two workers sleep in parallel
    assert r.suggestions[0].startswith("No setting measured keeps the model fed")
    assert (r.loader["mem_mb"] > 0).all()


def test_heavy_model_makes_the_model_the_bottleneck(tiny_mask):
    r = feeding_report(tiny_mask, model=TinyModel(sleep=0.5), img_size=IMG, batch_sizes=[4], workers=[0, 1],
                       batches=2, transform=QuickTransform(), threads=1, compare_orders=False,
                       compare_decode=False)
    consistent(r)
    assert set(r.verdicts["bound"]) == {"model"}
    assert (r.model["images_per_s"] < 4 / 0.5 * 1.05).all()
    assert (r.verdicts["factor"] > 2).all()
    assert r.best.fed and r.best.workers == 0  # fed without any worker: fewer workers win the tie
    assert r.suggestions[0].startswith("Use batch size 4 with no worker processes")


def test_loader_rounds_batches_to_whole_worker_rounds(tiny_mask):
    from labelscope.feeding.dataset import as_manifest, build_dataset
    from labelscope.train.data import collate

    ds = build_dataset(as_manifest(tiny_mask), img_size=IMG, transform=QuickTransform())
    t = time_loader(ds, batch_size=3, workers=2, batches=3, warmup=1, collate_fn=collate)
    assert (t.batches, t.images, t.warmup_batches) == (4, 12, 2)
    assert batch_images({"image": torch.zeros(5, 3, 2, 2), "target": torch.zeros(5)}) == 5
    with pytest.raises(ValueError, match="batch_size"):
        time_loader(ds, batch_size=0)


def test_cli_json_reports_numbers_and_consistent_verdicts(tiny_mask, capsys):
    rc = main(["feeding", str(tiny_mask), "--json", "--img-size", str(IMG), "--batch-sizes", "4,8",
               "--workers", "0", "--batches", "1", "--sample", "4", "--device", "cpu", "--threads", "1"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["images"] == 21 and out["config"]["model"] == "small"
    assert {(v["batch_size"], v["workers"]) for v in out["verdicts"]} == {(4, 0), (8, 0)}
    model = {m["batch_size"]: m["images_per_s"] for m in out["model"]}
    for v in out["verdicts"]:
        assert v["model_ips"] == model[v["batch_size"]]
        assert v["bound"] == ("loader" if v["loader_ips"] < v["model_ips"] else "model")
    orders = out["transform_order"]
    assert orders["same_size"] is True and orders["ratio"] > 0 and len(orders["orders"]) == 2
    methods = {d["method"] for d in out["decode"]}
    assert {"pil_full", "pil_draft", "cv2_reduced_2"} <= methods and out["suggestions"]


def test_cli_names_a_bad_dataset(tmp_path, capsys):
    assert main(["feeding", str(tmp_path / "nope"), "--no-orders", "--no-decode"]) == 1
    assert "nope" in capsys.readouterr().err


def test_max_seconds_stops_timing_early_but_times_at_least_one_batch(tiny_mask):
    from labelscope.feeding import time_model
    from labelscope.feeding.dataset import as_manifest, build_dataset

    ds = build_dataset(as_manifest(tiny_mask), img_size=IMG, transform=SleepyTransform(0.1))
    t = time_loader(ds, batch_size=4, workers=0, batches=5, warmup=0, max_seconds=0.2)
    assert t.batches == 1 and t.images == 4 and t.seconds >= 0.4   # one batch of 4 sleeps 0.4 s > 0.2 s
    m = time_model(TinyModel(sleep=0.3), batch_size=2, img_size=IMG, num_classes=18, batches=5, warmup=0,
                   max_seconds=0.1)
    assert m.batches == 1 and m.images_per_s == pytest.approx(2 / m.seconds)
