"""Box statistics, the N % crop, export for training, crops from thumbnails."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from labelscope.faces import (CropBox, box_stats, boxes_table, crop_box, crop_box_stats, crop_thumbnail,
                              export_boxes, relative_boxes)


@pytest.fixture
def faces() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for k in range(100):
        cx, cy = 100 + rng.normal(0, 5), 120 + rng.normal(0, 5)
        rows.append({"image_id": f"i{k:03d}", "x1": cx - 40, "y1": cy - 50, "x2": cx + 40, "y2": cy + 50,
                     "score": 0.99, "n_faces": 1, "width": 200, "height": 300, "error": ""})
    rows.append({"image_id": "far", "x1": 0.0, "y1": 0.0, "x2": 20.0, "y2": 20.0, "score": 0.8, "n_faces": 2,
                 "width": 200, "height": 300, "error": ""})
    nan = float("nan")
    rows.append({"image_id": "noface", "x1": nan, "y1": nan, "x2": nan, "y2": nan, "score": nan, "n_faces": 0,
                 "width": 400, "height": 600, "error": ""})
    rows.append({"image_id": "=cmd", "x1": nan, "y1": nan, "x2": nan, "y2": nan, "score": nan, "n_faces": 0,
                 "width": None, "height": None, "error": "not an image"})
    df = pd.DataFrame(rows)
    df["width"] = df["width"].astype("Int64")
    df["height"] = df["height"].astype("Int64")
    return df


def test_relative_boxes_and_groups(faces):
    labels = pd.DataFrame({"image_id": faces["image_id"], "cls": ["a"] * 50 + ["b"] * 53})
    rel = relative_boxes(faces, labels, by="cls")
    assert len(rel) == 101 and set(rel["group"]) == {"a", "b"}
    far = rel.set_index("image_id").loc["far"]
    assert (far.rx2, far.ry2, far.cx, far.w) == pytest.approx((0.1, 20 / 300, 0.05, 0.1))
    stats = box_stats(rel).set_index("group")
    assert stats.loc["a", "faces"] == 50 and stats.loc["a", "cx_median"] == pytest.approx(0.5, abs=0.02)
    with pytest.raises(ValueError, match="cannot group by"):
        relative_boxes(faces, labels, by="gender")


def test_crop_box_holds_the_share_asked(faces):
    rel = relative_boxes(faces)
    arr = rel[["rx1", "ry1", "rx2", "ry2"]].to_numpy()
    for coverage in (0.5, 0.9, 0.99, 1.0):
        box = crop_box(rel, coverage=coverage)
        inside = ((arr[:, 0] >= box.x1) & (arr[:, 1] >= box.y1) & (arr[:, 2] <= box.x2) & (arr[:, 3] <= box.y2))
        assert inside.mean() >= coverage and box.coverage == pytest.approx(inside.mean()) and box.n == 101
    full, tight = crop_box(rel, coverage=1.0), crop_box(rel, coverage=0.9)
    assert full.x1 == pytest.approx(0.0)  # the far-off face forces the union
    assert tight.x1 > 0.2 and (tight.x2 - tight.x1) < (full.x2 - full.x1)
    assert crop_box(rel.iloc[0:0]) == CropBox(0.0, 0.0, 1.0, 1.0, 0.0, 0)
    assert tight.to_pixels(200, 300)[0] == int(np.floor(tight.x1 * 200))
    with pytest.raises(ValueError):
        crop_box(rel, coverage=0)
    stats, overall, per = crop_box_stats(faces, pd.DataFrame({"image_id": faces["image_id"], "c": "x"}), by="c",
                                         coverage=0.9)
    assert overall == tight and per["group"].tolist() == ["x"] and stats["faces"].tolist() == [101]


def test_boxes_table_fallback_and_export(faces, tmp_path):
    crop = CropBox(0.25, 0.1, 0.75, 0.9, 0.9, 100)
    t = boxes_table(faces, fallback=crop, min_score=0.9).set_index("image_id")
    assert t.loc["i000", "source"] == "face"
    assert t.loc["far", "source"] == "fallback"                      # score 0.8 < 0.9
    assert tuple(t.loc["noface", ["x1", "y1", "x2", "y2"]]) == (100.0, 60.0, 300.0, 540.0)
    assert t.loc["=cmd", "source"] == "none" and np.isnan(t.loc["=cmd", "x1"])
    csv = export_boxes(faces, tmp_path / "boxes.csv", fallback=crop)
    text = csv.read_text()
    assert text.splitlines()[0] == "image_id,x1,y1,x2,y2,score,source"
    assert "\n=cmd,,,,,,none" in text  # an image id is written verbatim (it must name its file), missing values empty
    pq = export_boxes(faces, tmp_path / "boxes.parquet", fallback=crop)
    from labelscope.train.labels import read_face_boxes  # what training's crop option reads

    boxes = read_face_boxes(pq)
    assert set(boxes) == set(faces["image_id"]) - {"=cmd"}
    assert boxes["noface"][:4] == (100.0, 60.0, 300.0, 540.0)


def test_crop_thumbnail_scales_the_box():
    a = np.zeros((60, 40, 3), np.uint8)
    a[15:30, 10:30] = 255                        # the face, in a 40x60 thumbnail of a 400x600 image
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "PNG")
    out = Image.open(io.BytesIO(crop_thumbnail(buf.getvalue(), (100, 150, 300, 300), (400, 600), margin=0,
                                               out_side=40)))
    assert out.size == (40, 30)
    assert np.asarray(out.convert("L")).mean() > 230
    with pytest.raises(ValueError):
        crop_thumbnail(buf.getvalue(), (500, 500, 600, 600), (400, 600))
