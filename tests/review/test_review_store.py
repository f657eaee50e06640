"""The review store: actions, validation, stale-view protection, undo, person-level actions."""
from __future__ import annotations

import sqlite3

import pytest

from labelscope.dataset import load_dataset
from labelscope.review import ReviewError, StaleLabelError, current_labels, open_review_store
from labelscope.workspace import Workspace


def person(manifest, gid):
    return manifest.df[manifest.df["group_id"] == gid]["image_id"].tolist()


def count(store):
    return len(store.events())


def test_store_lives_in_the_workspace_in_wal_mode(tmp_path, mask):
    s = open_review_store(Workspace(tmp_path / "ws"))
    assert s.path == Workspace(tmp_path / "ws").review_db
    con = sqlite3.connect(s.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_db_url_and_env_point_elsewhere(tmp_path, monkeypatch):
    s = open_review_store(tmp_path / "ws", db_url=f"sqlite:///{tmp_path}/shared/r.sqlite")
    assert s.path == tmp_path / "shared" / "r.sqlite" and s.path.exists()
    monkeypatch.setenv("LABELSCOPE_DB_URL", f"sqlite:///{tmp_path}/env.sqlite")
    assert open_review_store(tmp_path / "ws").path == tmp_path / "env.sqlite"
    with pytest.raises(ReviewError, match="expected sqlite:///path or postgresql://") as e:
        open_review_store(tmp_path / "ws", db_url="mysql://ana:s3cret@host/db")
    assert "s3cret" not in str(e.value) and "ana:***@host" in str(e.value)


def test_flag_exclude_confirm_show_in_current_labels(store, mask):
    ids = mask.df["image_id"].tolist()
    ev = store.flag(ids[:3], reviewer="ana", note="blurry")
    assert [e["action"] for e in ev] == ["flag"] * 3 and ev[0]["note"] == "blurry"
    store.exclude(ids[1:2], reviewer="bob")
    store.confirm(ids[5:6], reviewer="cy")
    store.unflag(ids[2:3], reviewer="ana")
    df = store.current_labels(mask).df.set_index("image_id")
    assert df["flagged"].tolist()[:4] == [True, True, False, False]
    assert df.loc[ids[1], "excluded"] and not df.loc[ids[0], "excluded"]
    assert df.loc[ids[5], "confirmed"]
    assert df.loc[ids[1], "last_reviewer"] == "bob" and df.loc[ids[2], "last_reviewer"] == "ana"
    assert df.loc[ids[10], "last_reviewer"] == ""
    assert not df["changed"].any()  # states are not label changes


def test_relabel_recomputes_class_and_marks_changed(store, mask):
    iid = person(mask, "000001")[0]  # female, 25: incorrect_mask
    store.relabel([iid], "age", 70, reviewer="ana", expected_old=25)
    row = store.current_labels(mask).df.set_index("image_id").loc[iid]
    assert (row["age"], row["age_group"], row["label"]) == (70, ">=60", "incorrect_female_>=60")
    assert row["class_index"] == 1 * 6 + 1 * 3 + 2
    assert row["changed"] and row["last_reviewer"] == "ana"


@pytest.mark.parametrize("call, message", [
    (lambda s, ids: s.flag(["images/nope.jpg"], reviewer="ana"), "unknown image id"),
    (lambda s, ids: s.flag(ids[:1], reviewer="  "), "reviewer name is required"),
    (lambda s, ids: s.flag([], reviewer="ana"), "no image selected"),
    (lambda s, ids: s.flag(ids[0], reviewer="ana"), "not a single string"),
    (lambda s, ids: s.relabel(ids[:1], "colour", "red", reviewer="ana"), "unknown field 'colour'"),
    (lambda s, ids: s.relabel(ids[:1], "label", "x", reviewer="ana"), "derived from mask"),
    (lambda s, ids: s.relabel(ids[:1], "gender", "robot", reviewer="ana"), "unknown gender 'robot'"),
    (lambda s, ids: s.relabel(ids[:1], "mask", "half", reviewer="ana"), "unknown mask value"),
    (lambda s, ids: s.relabel(ids[:1], "age", "old", reviewer="ana"), "not a whole number"),
    (lambda s, ids: s.relabel(ids[:1], "age", 200, reviewer="ana"), "from 0 to 130"),
    (lambda s, ids: s.relabel_person("999999", "gender", "male", reviewer="ana", manifest=s.manifest),
     "unknown person"),
    (lambda s, ids: s.relabel_person("000001", "mask", "wear", reviewer="ana", manifest=s.manifest),
     "not a person-level field"),
])
def test_bad_input_is_refused_and_writes_nothing(store, mask, call, message):
    with pytest.raises(ReviewError, match=message):
        call(store, mask.df["image_id"].tolist())
    assert count(store) == 0


def test_relabel_without_any_manifest_is_refused(tmp_path, mask):
    s = open_review_store(tmp_path / "ws")
    with pytest.raises(ReviewError, match="needs the dataset's manifest"):
        s.relabel(mask.df["image_id"].tolist()[:1], "gender", "male", reviewer="ana")
    ev = s.relabel(mask.df["image_id"].tolist()[:1], "gender", "male", reviewer="ana", manifest=mask)
    assert ev[0]["old"] == "female"


def test_stale_relabel_is_refused_naming_who_changed_it(store, mask):
    ids = person(mask, "000001")
    store.relabel(ids[:1], "gender", "male", reviewer="ana", expected_old="female")
    with pytest.raises(StaleLabelError) as err:  # bob still sees "female" on both images
        store.relabel(ids[:2], "gender", "female", reviewer="bob", expected_old={i: "female" for i in ids[:2]})
    msg = str(err.value)
    assert "ana" in msg and "'male'" in msg and ids[0] in msg and "nothing was written" in msg
    assert err.value.conflicts[0][:4] == (ids[0], "gender", "female", "male")
    assert count(store) == 1  # nothing of bob's, not even the image that was not stale
    # what the reviewer saw on disk is checked too
    with pytest.raises(StaleLabelError, match="in the dataset"):
        store.relabel(ids[2:3], "age", 40, reviewer="bob", expected_old=33)


def test_undo_restores_the_previous_label_and_steps_back(store, mask):
    iid = person(mask, "000002")[3]  # male 45
    store.relabel([iid], "gender", "female", reviewer="ana")
    store.flag([iid], reviewer="ana")
    store.relabel([iid], "gender", "male", reviewer="bob", expected_old="female")
    assert store.current_labels(mask).df.set_index("image_id").loc[iid, "gender"] == "male"
    # ana's last action is the flag; undoing it leaves bob's relabel alone
    ev = store.undo("ana")
    assert [(e["action"], e["field"], e["new"]) for e in ev] == [("undo", "flagged", "0")]
    # ana's relabel was overwritten by bob since: undoing it is refused, not silently applied
    with pytest.raises(StaleLabelError, match="cannot undo.*bob"):
        store.undo("ana")
    assert store.undo("bob")[0]["new"] == "female"
    store.undo("ana")
    row = store.current_labels(mask).df.set_index("image_id").loc[iid]
    assert row["gender"] == "male" and not row["changed"] and not row["flagged"]
    assert store.undo("ana") == [] and store.undo("bob") == []
    ev = store.events()
    assert len(ev) == 6 and (ev["action"] == "undo").sum() == 3  # nothing deleted


def test_person_gender_fix_writes_one_batch_for_all_seven(store, mask):
    ev = store.relabel_person("000003", "gender", "male", reviewer="ana", manifest=mask)
    assert len(ev) == 7 and len({e["batch"] for e in ev}) == 1
    df = store.current_labels(mask).df
    assert set(df[df["group_id"] == "000003"]["gender"]) == {"male"}
    assert set(df[df["group_id"] != "000003"]["changed"]) == {False}
    assert len(store.undo("ana")) == 7


def test_swap_masks_exchanges_incorrect_and_normal(store, mask):
    ids = person(mask, "000002")
    inc = next(i for i in ids if i.endswith("incorrect_mask.jpg"))
    nor = next(i for i in ids if i.endswith("normal.jpg"))
    ev = store.swap_masks("000002", reviewer="ana", manifest=mask)
    assert {(e["image_id"], e["old"], e["new"]) for e in ev} == {(inc, "incorrect", "not_wear"),
                                                                 (nor, "not_wear", "incorrect")}
    df = store.current_labels(mask).df.set_index("image_id")
    assert (df.loc[inc, "mask"], df.loc[nor, "mask"]) == ("not_wear", "incorrect")
    assert df.loc[inc, "label"] == "not_wear_male_30-59"
    with pytest.raises(StaleLabelError, match="changed to 'not_wear' by ana"):  # not a toggle: bob saw the disk
        store.swap_masks("000002", reviewer="bob", manifest=mask)
    today = store.current_labels(mask)
    store.swap_masks("000002", reviewer="bob", manifest=today)  # swapping back what bob sees today
    df = store.current_labels(mask).df.set_index("image_id")
    assert df.loc[inc, "mask"] == "incorrect" and not df.loc[inc, "changed"]
    store.relabel([nor], "mask", "wear", reviewer="ana")
    with pytest.raises(ReviewError, match="exactly one of each"):
        store.swap_masks("000002", reviewer="ana", manifest=store.current_labels(mask))


def test_folder_layout_relabels_label(tmp_path, folder_dataset):
    m = load_dataset(folder_dataset)
    s = open_review_store(tmp_path / "ws", manifest=m)
    iid = "cat/0.jpg"
    s.relabel([iid], "label", "dog", reviewer="ana", expected_old="cat")
    with pytest.raises(ReviewError, match="unknown label 'cow'"):
        s.relabel([iid], "label", "cow", reviewer="ana")
    cur = current_labels(m, s).df.set_index("image_id")
    assert cur.loc[iid, "label"] == "dog" and cur.loc[iid, "changed"]
    assert s.changes(m)[["image_id", "before", "after", "reviewer"]].values.tolist() == [[iid, "cat", "dog", "ana"]]


def test_a_whole_selection_is_one_transaction(tmp_path, mask):
    s = open_review_store(tmp_path / "ws", manifest=mask)
    ids = mask.df["image_id"].tolist()
    ev = s.exclude(ids, reviewer="ana")
    assert len({e["batch"] for e in ev}) == 1 and [e["id"] for e in ev] == list(range(1, len(ids) + 1))


def test_an_action_on_1000_images_is_one_transaction(tmp_path):
    import pandas as pd

    from labelscope.dataset import Manifest
    from labelscope.dataset.mask import EXPECTED_STEMS, STEM_TO_MASK, derive_columns

    rows = [{"image_id": f"images/{p:06d}/{stem}.jpg", "group_id": f"{p:06d}", "mask": STEM_TO_MASK[stem],
             "gender": "male", "age": 40, "race": "Asian"} for p in range(200) for stem in EXPECTED_STEMS]
    m = Manifest(derive_columns(pd.DataFrame(rows)), tmp_path, "mask", tmp_path)  # the store never opens files
    s = open_review_store(tmp_path / "ws", manifest=m)
    ids = m.df["image_id"].tolist()[:1000]
    ev = s.relabel(ids, "age", 20, reviewer="ana", expected_old=40)
    assert len(ev) == 1000 and len({e["batch"] for e in ev}) == 1
    assert [e["id"] for e in ev] == list(range(1, 1001))
    with pytest.raises(StaleLabelError, match="1000 of 1000"):  # every one of them moved: nothing written
        s.relabel(ids, "age", 30, reviewer="bob", expected_old=40)
    assert len(s.undo("ana")) == 1000
    assert not s.current_labels(m).df["changed"].any()


def test_a_warm_store_sees_decisions_made_through_another(tmp_path, mask):
    a, b = open_review_store(tmp_path / "ws"), open_review_store(tmp_path / "ws")
    iid = mask.df["image_id"].iloc[4]
    a.relabel([iid], "age", 50, reviewer="ana", manifest=mask)
    assert a.current_labels(mask).df.set_index("image_id").loc[iid, "age"] == 50  # a's fold is now warm
    b.relabel([iid], "age", 51, reviewer="bob", manifest=mask)
    b.flag([iid], reviewer="bob")
    row = a.current_labels(mask).df.set_index("image_id").loc[iid]
    assert (row["age"], row["flagged"], row["last_reviewer"]) == (51, True, "bob")
    assert len(a.latest()) == 2  # one slot per (image, field)
