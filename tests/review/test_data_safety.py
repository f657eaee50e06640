"""The five ways a reviewer's work used to be lost without a word (issue 12): each test failed before.

1. formula neutralisation corrupted identifiers; 2. an aliased person folder; 3. a stray quote
swallowing train.csv; 4. decisions silently reverted (swap toggle, unchecked Queue accepts,
undo by name); 5. ``export --out DATASET`` overwriting the source.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from conftest import make_mask_dataset, write_image
from labelscope.cli import main
from labelscope.dataset import DatasetError, check_dataset, load_dataset
from labelscope.queue import decisions
from labelscope.review import (ReviewError, StaleLabelError, describe_undo, export_labels, open_review_store)


# ---- 1. identifiers round-trip; only free text is neutralised -----------------------------
def signed_csv_dataset(root: Path) -> Path:
    """A CSV dataset labelled ``-1`` / ``+1`` whose folders are named after the labels."""
    rows = ["path,label,group"]
    for k in range(8):
        label = "+1" if k % 2 else "-1"
        write_image(root / label / f"img{k}.jpg", seed=k)
        rows.append(f"{label}/img{k}.jpg,{label},@g{k % 3}")
    (root / "list.csv").write_text("\n".join(rows) + "\n")
    return root / "list.csv"


def test_signed_labels_export_verbatim_and_training_finds_every_file(tmp_path):
    from labelscope.train.data import LabelsDataset

    src = signed_csv_dataset(tmp_path / "ds")
    m = load_dataset(src)
    store = open_review_store(tmp_path / "ws", manifest=m)
    store.relabel(["-1/img0.jpg"], "label", "+1", reviewer="=HYPERLINK(1)", note="-1 was wrong")
    r = export_labels(m, store, tmp_path / "out")
    rows = list(csv.DictReader(io.StringIO(r.files["labels.csv"].read_text())))
    assert {row["path"] for row in rows} == set(m.df["image_id"])  # no "'" in front of an identifier
    assert {row["label"] for row in rows} == {"-1", "+1"}
    assert {row["person"] for row in rows} == {"@g0", "@g1", "@g2"}
    changed = next(row for row in rows if row["image_id"] == "-1/img0.jpg")
    assert changed["label"] == "+1" and changed["last_reviewer"] == "'=HYPERLINK(1)"  # free text: neutralised
    ds = LabelsDataset(r.files["labels.csv"], tmp_path / "ds")
    assert len(ds) == 8 and all(Path(p).is_file() for p, _ in ds.samples)
    assert sorted(ds.classes) == ["+1", "-1"]


# ---- 2. two train.csv rows reaching one person folder ---------------------------------------
@pytest.mark.parametrize("alias", ["000002_male_Asian_45/", "000002_male_Asian_45/../000002_male_Asian_45"])
def test_aliased_person_folder_is_an_error_naming_both_lines(tmp_path, alias, capsys):
    root = make_mask_dataset(tmp_path / "mask")
    with (root / "train.csv").open("a") as f:
        f.write(f"000009,female,Asian,30,{alias}\n")  # line 5; the folder is line 3's
    m = check_dataset(root)
    err = [p for p in m.errors if p.code == "duplicate_path"]
    assert err and err[0].row == 5 and "line 3" in err[0].message and "lines 3 and 5" in err[0].message
    assert m.df["image_id"].is_unique  # never a doubled image id
    with pytest.raises(DatasetError, match="duplicate_path"):
        load_dataset(root)
    assert main(["check", str(root)]) == 1
    assert "train.csv:5" in capsys.readouterr().out


def test_a_person_folder_linked_under_another_name_is_an_alias_too(tmp_path):
    root = make_mask_dataset(tmp_path / "mask")
    (root / "images" / "000009_female_Asian_30").symlink_to(root / "images" / "000002_male_Asian_45")
    with (root / "train.csv").open("a") as f:
        f.write("000009,female,Asian,30,000009_female_Asian_30\n")
    assert [p.row for p in check_dataset(root).errors if p.code == "duplicate_path"] == [5]


# ---- 3. strict CSV parsing -----------------------------------------------------------------
def test_an_unterminated_quote_is_a_file_level_error_on_its_line(tmp_path, capsys):
    people = [(f"{k:06d}", "male", "Asian", 20 + k) for k in range(1, 21)]
    root = make_mask_dataset(tmp_path / "mask", people)
    lines = (root / "train.csv").read_text().splitlines()
    lines[4] = lines[4].replace(",Asian,", ',"Asian,')  # line 5
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    m = check_dataset(root)
    assert [(p.code, p.row) for p in m.errors] == [("unreadable_csv", 5)]
    assert "quote opened on line 5" in m.errors[0].message
    assert main(["check", str(root)]) == 1  # never "usable" with 17 of 20 persons silently gone
    out = capsys.readouterr().out
    assert "train.csv:5" in out and "0 usable images" in out


def test_a_quote_closed_lines_later_is_refused_too(tmp_path):
    root = make_mask_dataset(tmp_path / "mask")
    text = (root / "train.csv").read_text().splitlines()
    text[1] = text[1].replace(",Asian,", ',"Asian,')
    text[2] = text[2].replace(",Asian,", ',Asian",')
    (root / "train.csv").write_text("\n".join(text) + "\n")
    assert [(p.code, p.row) for p in check_dataset(root).errors] == [("unreadable_csv", 2)]


# ---- 4. every write carries what its author saw --------------------------------------------
@pytest.fixture
def mask(tmp_path):
    return load_dataset(make_mask_dataset(tmp_path / "mask"))


def swap_row(m, gid="000002"):
    ids = m.df.loc[m.df["group_id"] == gid, "image_id"].tolist()
    inc = next(i for i in ids if i.endswith("incorrect_mask.jpg"))
    nor = next(i for i in ids if i.endswith("normal.jpg"))
    return {"rank": 1, "issue": "person", "person": gid, "field": "mask", "image_id": "",
            "images": f"{inc};{nor}", "given": "", "suggested": "incorrect_mask.jpg=not_wear, normal.jpg=incorrect"}


def test_a_swap_and_a_queue_accept_of_the_same_fix_do_not_revert_each_other(tmp_path, mask):
    store = open_review_store(tmp_path / "ws", manifest=mask)
    row = swap_row(mask)
    bob_saw = decisions.seen_values(row, store.current_labels(mask))  # bob's card is drawn
    alice_saw = store.current_labels(mask)
    store.swap_masks("000002", reviewer="alice", manifest=alice_saw)  # alice swaps on the Person page
    with pytest.raises(StaleLabelError, match="changed to 'not_wear' by alice"):
        decisions.accept(store, row, reviewer="bob", manifest=mask, seen=bob_saw)
    df = store.current_labels(mask).df.set_index("image_id")
    inc, nor = row["images"].split(";")
    assert (df.loc[inc, "mask"], df.loc[nor, "mask"]) == ("not_wear", "incorrect")  # alice's fix stands
    assert len(store.events()) == 2


def test_a_queue_age_accept_over_another_reviewers_change_is_refused(tmp_path, mask):
    store = open_review_store(tmp_path / "ws", manifest=mask)
    row = {"rank": 1, "issue": "person", "person": "000002", "field": "age", "image_id": "", "images": "",
           "given": "30-59", "suggested": ">=60"}
    bob_saw = decisions.seen_values(row, store.current_labels(mask))
    assert set(bob_saw["age"].values()) == {"45"}
    store.relabel_person("000002", "age", 65, reviewer="alice", manifest=mask)
    with pytest.raises(StaleLabelError, match=r"changed to '65' by alice.*you saw '45'"):
        decisions.accept(store, row, reviewer="bob", manifest=mask, seen=bob_saw, age=70)
    assert set(store.current_labels(mask).df.query("group_id == '000002'")["age"]) == {65}
    # the relabel form is checked the same way
    with pytest.raises(StaleLabelError, match="by alice"):
        decisions.relabel(store, row, "age", 50, reviewer="bob", manifest=mask, seen=bob_saw)


def test_undo_undoes_this_sessions_own_batch_and_says_what(tmp_path, mask):
    store = open_review_store(tmp_path / "ws", manifest=mask)
    here, there = store.in_session("tab-1"), store.in_session("tab-2")
    iid = mask.df["image_id"].iloc[0]
    here.relabel([iid], "gender", "male", reviewer="ana", manifest=mask)
    there.flag([mask.df["image_id"].iloc[1]], reviewer="ana", manifest=mask)  # another "ana", elsewhere
    ev = here.undo("ana")
    assert [(e["field"], e["new"]) for e in ev] == [("gender", "female")]
    assert describe_undo(ev) == f"undid gender back from 'male' to 'female' on {iid}"
    assert here.undo("ana") == []  # nothing more of this session's own
    df = store.current_labels(mask).df
    assert df["flagged"].sum() == 1  # the other session's flag is untouched
    assert set(store.events()["session"]) == {"tab-1", "tab-2"}


def test_the_person_page_swap_carries_what_was_seen(monkeypatch, tmp_path):
    from conftest import REPO, start_app_test

    root = make_mask_dataset(tmp_path / "mask")
    m = load_dataset(root)
    at = start_app_test(str(REPO / "pages" / "3_Person.py"), monkeypatch, root, reviewer="ana")
    at.session_state["person.current"] = "000002"
    at.run()
    store = open_review_store(root / ".labelscope", manifest=m)
    store.swap_masks("000002", reviewer="bob", manifest=m)  # bob swaps while ana's page is open
    at.button(key="person.swap").click()
    at.run()
    assert not at.exception
    assert "by bob" in at.error[0].value and "nothing was written" in at.error[0].value
    assert len(store.events()) == 2  # ana's click did not swap the photos back


# ---- 5. export never overwrites the source ---------------------------------------------------
def test_export_into_the_dataset_folder_is_refused(tmp_path, mask, capsys):
    root = mask.root
    before = (root / "train.csv").read_bytes()
    store = open_review_store(root / ".labelscope", manifest=mask)
    store.relabel_person("000002", "age", 61, reviewer="ana", manifest=mask)
    with pytest.raises(ReviewError, match="would overwrite the dataset's own .*train.csv"):
        export_labels(mask, store, root)
    assert main(["export", str(root), "--out", str(root / "images" / "..")]) == 1
    assert "refusing to export" in capsys.readouterr().err
    assert (root / "train.csv").read_bytes() == before and not (root / "labels.csv").exists()
    assert len(store.events()) == 7  # nothing decided is lost either


def test_export_over_a_csv_manifest_is_refused(tmp_path):
    root = tmp_path / "ds"
    for k in range(2):
        write_image(root / "a" / f"{k}.jpg", seed=k)
    (root / "labels.csv").write_text("path,label\na/0.jpg,x\na/1.jpg,y\n")
    m = load_dataset(root / "labels.csv")
    before = (root / "labels.csv").read_bytes()
    with pytest.raises(ReviewError, match="labels.csv would overwrite"):
        export_labels(m, open_review_store(tmp_path / "ws", manifest=m), root)
    assert (root / "labels.csv").read_bytes() == before
    # a hard link to the manifest elsewhere is the same file
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "labels.csv").hardlink_to(root / "labels.csv")
    with pytest.raises(ReviewError, match="would overwrite"):
        export_labels(m, open_review_store(tmp_path / "ws", manifest=m), tmp_path / "elsewhere")
    assert (root / "labels.csv").read_bytes() == before
