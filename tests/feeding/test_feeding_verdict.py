"""The verdict is derived from the two measured rates, never fixed; the best setting follows."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from labelscope.feeding import best_setting, suggestions, verdicts


def tables(loader_rates: dict[tuple[int, int], float], model_rates: dict[int, float]):
    loader = pd.DataFrame([{"batch_size": b, "workers": w, "images_per_s": r, "mem_mb": 100.0 + w}
                           for (b, w), r in loader_rates.items()])
    model = pd.DataFrame([{"batch_size": b, "images_per_s": r, "mem_mb": 10.0 * b, "device": "cpu"}
                          for b, r in model_rates.items()])
    return loader, model


def test_bound_and_factor_follow_the_rates():
    loader, model = tables({(16, 0): 50.0, (16, 2): 400.0, (32, 0): 60.0, (32, 2): 90.0}, {16: 100.0, 32: 120.0})
    v = verdicts(loader, model).set_index(["batch_size", "workers"])
    assert v.loc[(16, 0), "bound"] == "loader" and v.loc[(16, 0), "factor"] == pytest.approx(2.0)
    assert v.loc[(16, 0), "model_idle"] == pytest.approx(0.5)
    assert v.loc[(16, 2), "bound"] == "model" and v.loc[(16, 2), "factor"] == pytest.approx(4.0)
    assert v.loc[(16, 2), "model_idle"] == 0 and bool(v.loc[(16, 2), "fed"])
    assert v.loc[(32, 2), "bound"] == "loader" and v.loc[(32, 2), "factor"] == pytest.approx(120 / 90)
    assert (v["expected_ips"] == v[["loader_ips", "model_ips"]].min(axis=1)).all()
    assert v.loc[(32, 2), "loader_mem_mb"] == 102 and v.loc[(32, 2), "model_mem_mb"] == 320
    # swap the rates: every verdict flips
    loader2, model2 = tables({(16, 0): 100.0}, {16: 50.0})
    assert verdicts(loader2, model2)["bound"].tolist() == ["model"]


def test_best_setting_prefers_fed_then_fewer_workers():
    loader, model = tables({(16, 0): 50.0, (16, 2): 400.0, (32, 1): 130.0, (32, 2): 500.0}, {16: 100.0, 32: 120.0})
    best = best_setting(verdicts(loader, model))
    # fed settings: (16,2) -> 100/s, (32,1) -> 120/s, (32,2) -> 120/s; tie at 120 -> fewer workers
    assert (best.batch_size, best.workers, best.fed) == (32, 1, True)
    assert best.expected_ips == pytest.approx(120.0)


def test_best_setting_when_nothing_keeps_up():
    loader, model = tables({(16, 0): 10.0, (16, 1): 30.0}, {16: 100.0})
    best = best_setting(verdicts(loader, model))
    assert (best.workers, best.fed, best.bound) == (1, False, "loader")
    assert best.factor == pytest.approx(100 / 30)
    assert best_setting(verdicts(loader.iloc[0:0], model)) is None


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="workers"):
        verdicts(pd.DataFrame({"batch_size": [1], "images_per_s": [1.0]}), pd.DataFrame({"batch_size": [1],
                                                                                          "images_per_s": [1.0]}))


def test_suggestions_quote_the_measured_numbers():
    loader, model = tables({(16, 0): 10.0, (16, 1): 30.0}, {16: 100.0})
    v = verdicts(loader, model)
    tips = suggestions(v, best_setting(v), loader=loader, model=model, device="cpu", cpu_count=2)
    assert tips[0].startswith("No setting measured keeps the model fed")
    assert "30 images/s" in tips[0] and "3.3x" in tips[0] and "70%" in tips[0]
    assert any("all 2 settings" in t for t in tips)
    assert any("3.0x as many images/s" in t for t in tips)  # 30 / 10 from 0 to 1 worker
    loader, model = tables({(16, 0): 500.0}, {16: 100.0})
    v = verdicts(loader, model)
    tips = suggestions(v, best_setting(v), loader=loader, model=model)
    assert tips[0].startswith("Use batch size 16 with no worker processes") and "5.0x" in tips[0]
    assert not any("share the same" in t for t in tips)  # no workers measured: no core-sharing note
    assert math.isfinite(v["factor"].iloc[0])


def test_decode_and_order_suggestions_follow_their_tables():
    from labelscope.feeding.orders import OrderComparison

    loader, model = tables({(16, 0): 500.0}, {16: 100.0})
    v = verdicts(loader, model)
    decode = pd.DataFrame([
        {"method": "pil_full", "images_per_s": 100.0, "speedup": 1.0, "width": 384, "height": 512, "enough_pixels": True},
        {"method": "pil_draft", "images_per_s": 250.0, "speedup": 2.5, "width": 192, "height": 256,
         "enough_pixels": True},
        {"method": "cv2_reduced_4", "images_per_s": 900.0, "speedup": 9.0, "width": 96, "height": 128,
         "enough_pixels": False},
        {"method": "thumbnails", "images": 16, "images_per_s": 2000.0, "speedup": 20.0, "width": 96, "height": 128,
         "enough_pixels": False},
    ])
    orders = OrderComparison(pd.DataFrame([
        {"order": "resize_then_rotate", "images_per_s": 10.0, "out_size": "512x682"},
        {"order": "rotate_then_resize", "images_per_s": 25.0, "out_size": "512x682"}]), ratio=2.5, same_size=True,
        faster="rotate_then_resize")
    tips = suggestions(v, best_setting(v), loader=loader, model=model, orders=orders, decode=decode, img_size=128)
    text = "\n".join(tips)
    # the fastest decode that still has enough pixels, not the fastest overall
    assert "pil_draft read 2.5x as many images/s" in text and "cv2_reduced_4 read" not in text
    assert "only 96x128 px, too small for 128 px" in text
    assert "rotate then resize ran 2.5x faster than resize then rotate" in text and "(512x682)" in text
