"""Queue decisions -> review-store events; what counts as reviewed."""
from __future__ import annotations

import pandas as pd
import pytest

from labelscope.dataset import load_dataset
from labelscope.queue import decisions
from labelscope.review import open_review_store


@pytest.fixture
def mask_store(mask_dataset, tmp_path):
    m = load_dataset(mask_dataset)
    return m, open_review_store(tmp_path / "ws")


def person_row(field, given, suggested, person="000001", images=""):
    return {"rank": 1, "issue": "person", "image_id": "", "person": person, "field": field, "given": given,
            "suggested": suggested, "confidence": 0.9, "images": images}


def test_accepting_a_person_gender_relabels_all_seven_photos(mask_store):
    m, store = mask_store
    events = decisions.accept(store, person_row("gender", "female", "male"), reviewer="ana", manifest=m)
    assert len(events) == 7 and {e["new"] for e in events} == {"male"}
    cur = store.current_labels(m).df
    assert (cur.loc[cur["group_id"] == "000001", "gender"] == "male").all()


def test_accepting_an_age_group_writes_an_age_in_that_group(mask_store):
    m, store = mask_store
    decisions.accept(store, person_row("age", "<30 (age 25)", ">=60"), reviewer="ana", manifest=m)
    cur = store.current_labels(m).df
    assert set(cur.loc[cur["group_id"] == "000001", "age_group"]) == {">=60"}
    decisions.accept(store, person_row("age", ">=60", "30-59"), reviewer="ana", manifest=m, age=52)
    assert set(store.current_labels(m).df.loc[lambda d: d["group_id"] == "000001", "age"]) == {52}


def test_accepting_a_mask_swap_swaps_the_two_photos(mask_store):
    m, store = mask_store
    folder = m.df.loc[m.df["group_id"] == "000002", "person_path"].iloc[0]
    inc, nor = f"images/{folder}/incorrect_mask.jpg", f"images/{folder}/normal.jpg"
    row = person_row("mask", "incorrect_mask.jpg=incorrect, normal.jpg=not_wear",
                     "incorrect_mask.jpg=not_wear, normal.jpg=incorrect", person="000002", images=f"{inc};{nor}")
    decisions.accept(store, row, reviewer="ana", manifest=m)
    cur = store.current_labels(m).df.set_index("image_id")
    assert cur.at[inc, "mask"] == "not_wear" and cur.at[nor, "mask"] == "incorrect"
    table = pd.DataFrame([row])
    assert decisions.reviewed(table, store.current_labels(m)).tolist() == [True]


def test_keep_exclude_and_reviewed(folder_dataset, tmp_path):
    m = load_dataset(folder_dataset)
    store = open_review_store(tmp_path / "ws")
    rows = pd.DataFrame([
        {"rank": 1, "issue": "label", "image_id": "cat/0.jpg", "person": "", "field": "label", "given": "cat",
         "suggested": "dog", "confidence": 0.8, "images": ""},
        {"rank": 2, "issue": "duplicate", "image_id": "dog/1.jpg", "person": "", "field": "", "given": "dog",
         "suggested": "", "confidence": float("nan"), "images": "dog/0.jpg;dog/1.jpg"},
        {"rank": 3, "issue": "label", "image_id": "dog/2.jpg", "person": "", "field": "label", "given": "dog",
         "suggested": "cat", "confidence": 0.6, "images": ""},
    ])
    assert decisions.reviewed(rows, store.current_labels(m)).tolist() == [False, False, False]
    decisions.keep(store, rows.iloc[0], reviewer="ana", manifest=m)
    decisions.accept(store, rows.iloc[1], reviewer="ana", manifest=m)     # a duplicate: exclude the copy
    cur = store.current_labels(m)
    assert bool(cur.df.set_index("image_id").at["dog/1.jpg", "excluded"])
    assert decisions.reviewed(rows, cur).tolist() == [True, False, False]  # dog/0.jpg not decided yet
    decisions.accept(store, rows.iloc[2], reviewer="ana", manifest=m)
    ev = store.events()
    assert ev.iloc[-1]["action"] == "relabel" and ev.iloc[-1]["new"] == "cat"
    assert decisions.reviewed(rows, store.current_labels(m)).tolist() == [True, False, True]
