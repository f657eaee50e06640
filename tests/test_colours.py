"""Colour aggregation: group histograms (sums, normalisation, weighting), distances, mean images."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from labelscope.eda import colours


def hist(values: dict[int, int]) -> list[int]:
    h = [0] * 32
    for k, v in values.items():
        h[k] = v
    return h


@pytest.fixture
def feats() -> pd.DataFrame:
    # a: 100 px all in bin 0 (r), b: 300 px all in bin 31 (r); c: readable, like a; d: unreadable
    rows = [
        ("a", hist({0: 100}), hist({5: 100}), hist({10: 100}), ""),
        ("b", hist({31: 300}), hist({5: 300}), hist({10: 300}), ""),
        ("c", hist({0: 50}), hist({5: 50}), hist({10: 50}), ""),
        ("d", [], [], [], "not an image"),
    ]
    return pd.DataFrame(rows, columns=["image_id", "hist_r", "hist_g", "hist_b", "error"])


@pytest.fixture
def labels() -> pd.DataFrame:
    return pd.DataFrame({"image_id": ["a", "b", "c", "d"], "cls": ["x", "x", "y", "y"]})


def shares(h: pd.DataFrame, group: str, channel: str) -> np.ndarray:
    return h[(h["group"] == group) & (h["channel"] == channel)].sort_values("bin")["share"].to_numpy()


def test_group_histograms_normalised_per_group_and_channel(feats, labels):
    h = colours.group_histograms(feats, labels, by="cls")
    sums = h.groupby(["group", "channel"])["share"].sum()
    assert np.allclose(sums.to_numpy(), 1.0) and len(sums) == 6
    # every image counts the same: group x = half bin 0, half bin 31 (despite 100 vs 300 px)
    r = shares(h, "x", "r")
    assert r[0] == pytest.approx(0.5) and r[31] == pytest.approx(0.5)
    assert shares(h, "x", "g")[5] == pytest.approx(1.0)
    # the unreadable image d is left out: group y has one image
    assert set(h.loc[h["group"] == "y", "images"]) == {1}
    assert set(h["level"]) == set(range(0, 256, 8))


def test_pixel_weighting_pools_counts(feats, labels):
    h = colours.group_histograms(feats, labels, by="cls", weight="pixel")
    r = shares(h, "x", "r")
    assert r[0] == pytest.approx(100 / 400) and r[31] == pytest.approx(300 / 400)


def test_unknown_group_column_and_mode_are_clear_errors(feats, labels):
    with pytest.raises(ValueError, match="cannot group by 'gender'"):
        colours.group_histograms(feats, labels, by="gender")
    with pytest.raises(ValueError, match="needs the colour digest"):
        colours.group_histograms(feats, labels, by="cls", mode="luma")


def test_intersection_distances(feats, labels):
    labels2 = labels.assign(cls=["x", "z", "y", "y"])  # x = {a}, y = {c} (same colours as a), z = {b}
    d = colours.intersection_distances(colours.group_histograms(feats, labels2, by="cls"))
    assert list(d.index) == ["x", "y", "z"]
    assert np.allclose(np.diag(d.to_numpy()), 0.0)
    assert d.loc["x", "y"] == pytest.approx(0.0)          # identical distributions
    # x and z share g and b entirely but no r bin: 1 - mean(0, 1, 1)
    assert d.loc["x", "z"] == pytest.approx(1 / 3)
    assert np.allclose(d.to_numpy(), d.to_numpy().T)
    near = colours.nearest_groups(d).set_index("group")
    assert near.loc["x", "nearest"] == "y" and near.loc["z", "distance"] == pytest.approx(1 / 3)


def test_colour_outliers_rank_the_odd_image_first(feats, labels):
    labels2 = labels.assign(cls=["x", "x", "x", "x"])
    out = colours.colour_outliers(feats, labels2, by="cls")
    assert out["image_id"].iloc[0] == "b" and len(out) == 3  # b is the red-bin-31 one; d unreadable
    assert out["distance"].is_monotonic_decreasing


def jpeg(color, size=(40, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_mean_image_averages_resized_thumbnails():
    m = colours.mean_image([jpeg((200, 0, 0)), jpeg((0, 0, 100), size=(16, 64))], size=8)
    assert m.shape == (8, 8, 3) and m.dtype == np.uint8
    assert np.allclose(m[..., 0], 100, atol=3) and np.allclose(m[..., 2], 50, atol=3)
    with pytest.raises(ValueError):
        colours.mean_image([])


def test_thumb_tile_luma_histogram_counts_every_pixel():
    tile, h = colours.thumb_tile(jpeg((255, 255, 255), size=(30, 10)))
    assert tile.shape == (colours.TILE, colours.TILE, 3)
    assert h.sum() == 300 and h[31] == 300


def test_digest_luma_and_mean_images(mask_dataset, tmp_path):
    from labelscope.dataset import load_dataset
    from labelscope.scan import load_features, scan_dataset

    ws = tmp_path / "ws"
    scan_dataset(mask_dataset, ws, workers=1)
    m = load_dataset(mask_dataset)
    seen = []
    assert colours.load_digest(ws) is None
    digest = colours.colour_digest(ws, progress=lambda d, t: seen.append((d, t)))
    assert len(digest) == len(m.df) and seen[-1] == (len(m.df), len(m.df))
    assert digest.tiles.shape == (len(m.df), colours.TILE, colours.TILE, 3) and digest.hist_l.shape == (len(m.df), 32)
    mtime = colours.digest_path(ws).stat().st_mtime_ns
    assert len(colours.colour_digest(ws)) == len(m.df)  # cached: not rewritten
    assert colours.digest_path(ws).stat().st_mtime_ns == mtime
    assert (colours.load_digest(ws).tiles == digest.tiles).all()
    h = colours.group_histograms(load_features(ws), m.df, by="mask", mode="luma", digest=digest)
    assert set(h["channel"]) == {"l"}
    assert np.allclose(h.groupby("group")["share"].sum(), 1.0)
    means = colours.mean_images(digest, m.df, by="mask")
    assert set(means) == {"wear", "incorrect", "not_wear"}
    img, n = means["wear"]
    assert img.shape == (colours.TILE, colours.TILE, 3) and n == 15  # 3 people x mask1-5
