"""What the pages used to compute themselves, as library functions: Faces counts and lists,
the Overview's readable split, the Export page's staleness, the Review filters, the check registry."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

FACES = pd.DataFrame({"image_id": list("abcde"), "n_faces": [1, 0, 2, 0, 1], "score": [0.99, np.nan, 0.9, np.nan, 0.5],
                      "error": ["", "", "", "broken", None]})


def test_face_counts_match_what_the_summary_reports():
    from labelscope.faces import face_counts

    assert face_counts(FACES) == {"with_face": 3, "no_face": 1, "multi_face": 1, "unreadable": 1}


def test_faces_to_check_lists_each_kind_of_readable_image():
    from labelscope.faces import faces_to_check

    assert faces_to_check(FACES, "no face")["image_id"].tolist() == ["b"]
    assert faces_to_check(FACES, "several faces")["image_id"].tolist() == ["c"]
    assert faces_to_check(FACES, "low score", low_score=0.95)["image_id"].tolist() == ["c", "e"]
    with pytest.raises(ValueError, match="kind must be one of"):
        faces_to_check(FACES, "blurry")


def test_readable_split_gives_sizes_in_kib_and_the_bad_files():
    from labelscope.eda.summary import readable_split

    feats = pd.DataFrame({"image_id": ["a", "b"], "file_size": [2048, 0], "error": ["", "cannot decode"]})
    ok, bad = readable_split(feats)
    assert ok["kb"].tolist() == [2.0] and bad.values.tolist() == [["b", "cannot decode"]]


def test_last_export_is_stale_once_a_decision_follows_it(tmp_path):
    from labelscope.review.export import last_export

    assert last_export(tmp_path, 0) is None
    (tmp_path / "summary.json").write_text(json.dumps({"events": {"last_id": 4}}))
    (tmp_path / "labels.csv").write_text("image_id\n")
    assert last_export(tmp_path, 4).stale is False
    last = last_export(tmp_path, 5)
    assert last.stale is True and list(last.files) == ["labels.csv", "summary.json"]
    (tmp_path / "summary.json").write_text("{not json")
    assert last_export(tmp_path, 5) is None


def test_review_filters_come_from_the_schema(mask_dataset, folder_dataset):
    from labelscope.dataset import load_dataset
    from labelscope.review import filter_choices

    choices = {c: (t, o) for c, t, o in filter_choices(load_dataset(mask_dataset))}
    assert choices["age_group"] == ("Age group", ["<30", "30-59", ">=60"])
    assert choices["gender"] == ("Gender", ["female", "male"]) and list(choices) == ["mask", "gender", "age_group"]
    assert filter_choices(load_dataset(folder_dataset)) == []


def test_each_check_declares_its_order_and_label():
    from labelscope.issues import CHECK_MODULES, CHECKS

    assert list(CHECKS) == ["quality", "duplicate", "person", "label", "outlier"] == list(CHECK_MODULES)
    assert [c.order for c in CHECKS.values()] == sorted(c.order for c in CHECKS.values())
    assert CHECKS["quality"].short == "Image quality" and CHECKS["label"].short == "Label"
