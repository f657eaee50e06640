"""Pure pieces: folding events onto a manifest, the diff, Review-page filters, person helpers."""
from __future__ import annotations

import pandas as pd
import pytest

from labelscope.dataset import load_dataset
from labelscope.review import (apply_events, filter_labels, group_ids, label_changes, person_attributes,
                               person_rows)


def events(*rows):
    return pd.DataFrame(rows, columns=["id", "at", "reviewer", "image_id", "field", "new"])


@pytest.fixture
def mask(mask_dataset):
    return load_dataset(mask_dataset)


def test_apply_events_folds_latest_values_and_ignores_unknown_ids(mask):
    a, b = mask.df["image_id"].iloc[0], mask.df["image_id"].iloc[8]
    cur = apply_events(mask, events(
        (1, "t1", "ana", a, "gender", "male"), (2, "t2", "bob", a, "flagged", "1"),
        (3, "t3", "cy", b, "age", "61"), (4, "t4", "cy", "images/gone.jpg", "age", "3"),
        (5, "t5", "dee", b, "confirmed", "1"))).df.set_index("image_id")
    assert cur.loc[a, ["gender", "label", "flagged", "changed", "last_reviewer"]].tolist() == [
        "male", "incorrect_male_<30", True, True, "bob"]
    assert cur.loc[b, ["age", "age_group", "confirmed", "last_reviewer"]].tolist() == [61, ">=60", True, "dee"]
    assert len(cur) == len(mask.df) and cur["changed"].sum() == 2
    assert cur["age"].dtype.kind == "i" and cur["class_index"].dtype.kind == "i"


def test_apply_events_with_no_events_is_the_manifest(mask):
    cur = apply_events(mask, events()).df
    pd.testing.assert_frame_equal(cur[mask.df.columns], mask.df)
    assert not cur[["flagged", "excluded", "confirmed", "changed"]].any().any()
    assert set(cur["last_reviewer"]) == {""}


def test_label_changes_lists_only_real_differences(mask):
    a, b = mask.df["image_id"].iloc[0], mask.df["image_id"].iloc[1]
    diff = label_changes(mask, events(
        (1, "t1", "ana", a, "gender", "male"), (2, "t2", "ana", b, "gender", "female"),  # b is female already
        (3, "t3", "ana", a, "flagged", "1")))
    assert diff[["image_id", "group_id", "field", "before", "after", "reviewer", "at"]].values.tolist() == [
        [a, "000001", "gender", "female", "male", "ana", "t1"]]


def test_filter_labels(mask):
    a = mask.df["image_id"].iloc[0]
    cur = apply_events(mask, events((1, "t", "ana", a, "flagged", "1"), (2, "t", "ana", a, "mask", "wear"))).df
    assert filter_labels(cur, state="flagged")["image_id"].tolist() == [a]
    assert len(filter_labels(cur, state="not flagged")) == len(cur) - 1
    assert filter_labels(cur, state="changed")["image_id"].tolist() == [a]
    assert len(filter_labels(cur, state="not reviewed")) == len(cur) - 1
    assert set(filter_labels(cur, attributes={"mask": ["incorrect"]})["group_id"]) == {"000002", "000003"}
    assert set(filter_labels(cur, classes=["wear_male_30-59"])["group_id"]) == {"000002"}
    assert len(filter_labels(cur, group="000003", attributes={"mask": []})) == 7
    assert filter_labels(cur, search="000001_FEMALE_asian_25/NORMAL")["image_id"].str.endswith("normal.jpg").all()
    with pytest.raises(ValueError, match="unknown review state"):
        filter_labels(cur, state="odd")


def test_person_helpers(mask):
    assert group_ids(mask) == ["000001", "000002", "000003"]
    rows = person_rows(mask.df, "000002")
    assert [p.rsplit("/", 1)[1] for p in rows["image_id"]] == [
        "mask1.jpg", "mask2.jpg", "mask3.jpg", "mask4.jpg", "mask5.jpg", "incorrect_mask.jpg", "normal.jpg"]
    rows = rows.assign(age=[45] * 6 + [50])
    assert person_attributes(rows, ["gender", "age"]) == {"gender": ("male", True), "age": ("45", False)}


def test_gallery_helpers():
    from labelscope.ui.gallery import md_escape, page_bounds

    assert page_bounds(50, 1, 24) == (0, 24, 3) and page_bounds(50, 3, 24) == (48, 50, 3)
    assert page_bounds(50, 9, 24) == (48, 50, 3) and page_bounds(0, 1, 24) == (0, 0, 1)
    assert md_escape("wear_female_<30 *x*") == r"wear\_female\_\<30 \*x\*"
