"""Quality suspects are relative to the class and the dataset: a tiny image in a class of tiny images
is not an outlier; an unreadable one always is."""
from __future__ import annotations

import pandas as pd

from labelscope.issues.quality import quality_rows


def features(rows):
    return pd.DataFrame([{"image_id": i, "error": e, "width": w, "height": h, "aspect": w / h,
                          "brightness": b, "contrast": 40.0, "sharpness": 100.0, "is_grayscale": False}
                         for i, w, h, b, e in rows])


def test_tiny_and_dark_are_judged_against_class_and_dataset():
    rows = [(f"small/{k}.jpg", 24, 30, 120.0, "") for k in range(10)]          # a class of small crops
    rows += [(f"big/{k}.jpg", 300, 400, 120.0, "") for k in range(20)]         # a class of big photos
    rows += [("big/tiny.jpg", 20, 26, 120.0, ""),                               # tiny among big ones
             ("big/dark.jpg", 300, 400, 10.0, ""),                              # dark among bright ones
             ("small/broken.jpg", 0, 1, 0.0, "OSError: truncated")]
    feats = features(rows)
    labels = pd.DataFrame({"image_id": feats["image_id"], "label": feats["image_id"].str.split("/").str[0],
                           "group_id": ""}).set_index("image_id")
    out = quality_rows(feats, labels).set_index("image_id")
    assert sorted(out.index) == ["big/dark.jpg", "big/tiny.jpg", "small/broken.jpg"]  # no small/k.jpg
    assert out.at["big/tiny.jpg", "detail"] == "tiny (far below its class and the dataset)"
    assert out.at["big/dark.jpg", "detail"] == "very dark (far below its class and the dataset)"
    assert out.at["small/broken.jpg", "quality_score"] == 0.0


def test_a_dataset_of_tiny_images_has_no_tiny_suspects():
    feats = features([(f"a/{k}.jpg", 20 + k % 3, 28, 120.0, "") for k in range(12)])
    labels = pd.DataFrame({"image_id": feats["image_id"], "label": "a", "group_id": ""}).set_index("image_id")
    assert quality_rows(feats, labels).empty
