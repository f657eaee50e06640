"""MTCNN (facenet-pytorch, weights in its wheel) on the demo's drawings and on real photos; the CLI."""
from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from conftest import require
from labelscope.dataset import Manifest, load_dataset
from labelscope.faces import detect_faces, load_faces


def _has_facenet() -> bool:
    try:
        import facenet_pytorch  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(autouse=True)
def facenet():
    """MTCNN needs facenet-pytorch (requirements-nodeps.txt): skipped locally without it, failed in CI."""
    require(_has_facenet(), "facenet-pytorch is not installed (pip install --no-deps facenet-pytorch==2.6.0)")

REAL_SAMPLE = 50  # photos per class: enough for the rates, quick on 2 cores


def detection_rate(manifest: Manifest, ws, backend: str = "mtcnn") -> pd.DataFrame:
    s = detect_faces(manifest.root, ws, manifest=manifest, backend=backend)
    assert s.detected == len(manifest.df) and s.images_per_s > 0
    return load_faces(ws).merge(manifest.df, on="image_id")


def test_mtcnn_finds_the_demo_faces_without_a_mask(demo_dataset, tmp_path):
    m = load_dataset(demo_dataset)
    normal = m.with_df(m.df[m.df["image_id"].str.endswith("/normal.jpg")].reset_index(drop=True))
    f = detection_rate(normal, tmp_path / "ws")
    rate = (f["n_faces"] > 0).mean()
    assert rate >= 0.9, f"MTCNN found a face in {rate:.0%} of {len(f)} demo 'normal' photos"
    hit = f[f["n_faces"] > 0]
    # boxes lie inside the image, in original pixels, and are face-sized
    assert (hit["x1"] >= 0).all() and (hit["x2"] <= hit["width"]).all() and (hit["y2"] <= hit["height"]).all()
    assert ((hit["x2"] - hit["x1"]) > 0.15 * hit["width"]).all()
    assert (hit["score"] > 0.9).all()


def test_mtcnn_on_real_photos(real_data, tmp_path):
    root = real_data / "faces_mask"
    ids = []
    for cls in ("without_mask", "with_mask"):
        names = sorted(p.name for p in (root / cls).glob("*.jpg"))
        random.Random(0).shuffle(names)
        ids += [f"{cls}/{n}" for n in names[:REAL_SAMPLE]]
    df = pd.DataFrame({"image_id": ids, "label": [i.split("/")[0] for i in ids], "group_id": ""})
    f = detection_rate(Manifest(df, root, "folder", root), tmp_path / "ws")
    rates = f.groupby("label")["n_faces"].apply(lambda n: (n > 0).mean())
    assert rates["without_mask"] >= 0.85, rates.to_dict()
    assert rates["with_mask"] >= 0.60, rates.to_dict()


def test_faces_command(mask_dataset, tmp_path, capsys):
    from labelscope.cli import main

    ws = tmp_path / "ws"
    assert main(["faces", str(mask_dataset), "--workspace", str(ws), "--detector", "mtcnn", "--json"]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["total"] == 21 and summary["detected"] == 21 and summary["detector"].startswith("mtcnn")
    assert "faces 21/21" in out.err  # progress on stderr
    assert len(load_faces(ws)) == 21
    assert main(["faces", str(mask_dataset), "--workspace", str(ws), "--backend", "mtcnn", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cached"] == 21  # --backend: the older name, same cache
    assert main(["faces", str(mask_dataset), "--workspace", str(ws), "--yunet-model", str(ws / "no.onnx")]) == 1
    assert "nothing is downloaded" in capsys.readouterr().err
