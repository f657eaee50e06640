"""compute_embeddings / load_embeddings / combine: values, caching, incremental rule, unreadable files."""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from PIL import Image

from conftest import make_mask_dataset
from labelscope.dataset import load_dataset
from labelscope.embed import EMBEDDERS, Embedding, best_embedding, combine, compute_embeddings, load_embeddings
from labelscope.embed.base import EmbedderSpec
from labelscope.scan import load_features
from labelscope.workspace import Workspace


@pytest.fixture
def tiny(tmp_path):
    """21 images of 3 people, one of them truncated (unreadable)."""
    root = make_mask_dataset(tmp_path / "mask")
    bad = root / "images" / "000002_male_Asian_45" / "mask3.jpg"
    bad.write_bytes(bad.read_bytes()[:40])
    return load_dataset(root), Workspace(tmp_path / "ws"), "images/000002_male_Asian_45/mask3.jpg"


def counting(monkeypatch, name):
    """Wrap an embedder's compute function; the returned list collects the ids of each call."""
    calls: list[list[str]] = []
    spec = EMBEDDERS[name]

    def compute(ctx):
        calls.append(list(ctx.image_ids))
        return spec.compute(ctx)

    monkeypatch.setitem(EMBEDDERS, name, dataclasses.replace(spec, compute=compute))
    return calls


def test_pixels_embedding_leaves_the_unreadable_image_out_and_is_cached(tiny, monkeypatch):
    m, ws, bad = tiny
    calls = counting(monkeypatch, "pixels")
    emb = compute_embeddings(m, ws, "pixels")
    assert ws.has_scan()  # the scan ran first, the thumbnails feed the pixels
    assert bad not in emb.image_ids and emb.missing == [bad]
    assert emb.image_ids == [i for i in m.df["image_id"] if i != bad]  # manifest order
    assert emb.vectors.shape == (20, 20) and emb.vectors.dtype == np.float32  # PCA to min(64, n)
    assert np.isfinite(emb.vectors).all()
    # PCA scores: centred, components uncorrelated, variance decreasing
    assert np.allclose(emb.vectors.mean(axis=0), 0, atol=1e-3)
    var = emb.vectors.var(axis=0)
    assert (np.diff(var) <= 1e-3).all()
    again = compute_embeddings(m, ws, "pixels")
    assert len(calls) == 1  # second call read the cache
    assert np.array_equal(again.vectors, emb.vectors)
    loaded = load_embeddings(ws, "pixels")
    assert loaded.image_ids == emb.image_ids and loaded.meta["version"] == EMBEDDERS["pixels"].version
    assert loaded.meta["dim"] == 20 and loaded.meta["name"] == "pixels" and loaded.meta["created"]


def test_colour_embedding_is_the_square_root_of_the_scan_histograms(tiny):
    m, ws, bad = tiny
    emb = compute_embeddings(m, ws, "colour")
    assert emb.missing == [bad] and emb.dim == 96
    feats = load_features(ws).set_index("image_id")
    iid = emb.image_ids[5]
    hist = np.asarray(feats.at[iid, "hist_g"], dtype=float)
    expected = np.sqrt(hist / hist.sum())
    assert np.allclose(emb.vectors[5, 32:64], expected, atol=1e-6)
    # each channel's block is a unit vector (Hellinger embedding)
    norms = np.linalg.norm(emb.vectors.reshape(len(emb), 3, 32), axis=2)
    assert np.allclose(norms, 1.0, atol=1e-5)


def mean_colour_spec(name: str = "meancol") -> EmbedderSpec:
    """An incremental test embedder: the mean RGB of the decoded file."""

    def compute(ctx):
        out = np.zeros((len(ctx.paths), 3), np.float32)
        ok = np.zeros(len(ctx.paths), bool)
        for k, p in enumerate(ctx.paths):
            try:
                with Image.open(p) as im:
                    out[k] = np.asarray(im.convert("RGB"), dtype=np.float32).mean(axis=(0, 1))
                    ok[k] = True
            except Exception:
                pass
        return out, ok, {}

    return EmbedderSpec(name=name, title="mean colour", licence="-", dim=3, version="1",
                        available=lambda ws=None: (True, ""), compute=compute)


def test_incremental_embedder_embeds_only_new_and_changed_files(tiny, monkeypatch):
    m, ws, bad = tiny
    monkeypatch.setitem(EMBEDDERS, "meancol", mean_colour_spec())
    calls = counting(monkeypatch, "meancol")
    first = compute_embeddings(m, ws, "meancol")
    assert len(calls[0]) == 21 and first.missing == [bad]
    compute_embeddings(m, ws, "meancol")
    assert len(calls) == 1  # unchanged files, unchanged unreadable one: nothing to do

    changed = "images/000001_female_Asian_25/normal.jpg"
    path = m.root / changed
    Image.new("RGB", (20, 20), (250, 0, 0)).save(path)
    os.utime(path, ns=(1, 1_000_000_000))
    emb = compute_embeddings(m, ws, "meancol")
    assert calls[1] == [changed]
    assert np.allclose(emb.vectors[emb.image_ids.index(changed)], [250, 0, 0], atol=2)
    assert emb.meta["embedded"] == 1 and emb.meta["reused"] == 19

    Image.new("RGB", (20, 20), (0, 0, 200)).save(m.root / bad)  # the broken file is fixed
    emb = compute_embeddings(m, ws, "meancol")
    assert calls[2] == [bad] and emb.missing == [] and len(emb) == 21
    assert emb.image_ids == m.df["image_id"].tolist()

    compute_embeddings(m, ws, "meancol", force=True)
    assert len(calls[3]) == 21


def test_a_new_embedder_version_recomputes(tiny, monkeypatch):
    m, ws, _ = tiny
    monkeypatch.setitem(EMBEDDERS, "meancol", mean_colour_spec())
    calls = counting(monkeypatch, "meancol")
    compute_embeddings(m, ws, "meancol")
    monkeypatch.setitem(EMBEDDERS, "meancol", dataclasses.replace(EMBEDDERS["meancol"], version="2"))
    compute_embeddings(m, ws, "meancol")
    assert [len(c) for c in calls] == [21, 21]


def test_unavailable_and_unknown_embedders_fail_clearly(tiny, monkeypatch):
    m, ws, _ = tiny
    with pytest.raises(ValueError, match="unknown embedder 'nope'"):
        compute_embeddings(m, ws, "nope")
    with pytest.raises(RuntimeError, match="'model' is not available: no training run"):
        compute_embeddings(m, ws, "model")


def test_combine_aligns_rows_by_image_id_and_balances_the_parts():
    rng = np.random.default_rng(0)
    ids_a = [f"img{i}" for i in range(10)]
    ids_b = list(reversed(ids_a[2:])) + ["extra"]  # another order, two ids missing, one extra
    a = Embedding("a", ids_a, rng.normal(size=(10, 4)) * 50 + 7, {"version": "1"})
    # b's first column is the image number, so alignment is checkable after z-scoring
    num = np.array([float(i[3:]) if i != "extra" else 99.0 for i in ids_b])
    b = Embedding("b", ids_b, np.column_stack([num, rng.normal(size=(9, 99))]), {"version": "1"})
    c = combine([a, b])
    assert c.name == "a+b" and c.image_ids == ids_a[2:]
    assert sorted(c.missing) == ["extra", "img0", "img1"]
    assert c.vectors.shape == (8, 4 + 100)
    # every part has the same total variance (1), whatever its width and scale
    assert np.isclose(c.vectors[:, :4].var(axis=0).sum(), 1.0, atol=1e-4)
    assert np.isclose(c.vectors[:, 4:].var(axis=0).sum(), 1.0, atol=1e-4)
    first_b = c.vectors[:, 4]
    expected = np.arange(2, 10, dtype=float)
    expected = (expected - expected.mean()) / expected.std() / np.sqrt(100)
    assert np.allclose(first_b, expected, atol=1e-5)
    za = (a.vectors[2:] - a.vectors.mean(0))  # a is re-centred on the common rows only
    assert np.allclose(np.corrcoef(c.vectors[:, 0], za[:, 0])[0, 1], 1.0, atol=1e-5)


def test_best_embedding_combines_the_cached_parts(tiny):
    m, ws, bad = tiny
    compute_embeddings(m, ws, "pixels")
    compute_embeddings(m, ws, "colour")
    best = best_embedding(workspace=ws, names=["pixels", "colour"], compute=False)
    assert best.name == "pixels+colour" and best.dim == 20 + 96 and bad in best.missing
    assert best_embedding(workspace=ws, names=["effnet"], compute=False) is None


def test_scan_based_embedding_follows_a_new_image(folder_dataset, tmp_path, monkeypatch):
    from conftest import write_image

    ws = Workspace(tmp_path / "ws")
    calls = counting(monkeypatch, "colour")
    assert len(compute_embeddings(load_dataset(folder_dataset), ws, "colour")) == 8
    compute_embeddings(load_dataset(folder_dataset), ws, "colour")
    assert len(calls) == 1  # the rescan of an unchanged dataset rewrote nothing
    write_image(folder_dataset / "dog" / "new.jpg", color=(10, 240, 10), seed=9)
    emb = compute_embeddings(load_dataset(folder_dataset), ws, "colour")
    assert len(calls) == 2 and len(emb) == 9 and "dog/new.jpg" in emb.image_ids
