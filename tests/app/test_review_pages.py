"""AppTest of the Review, Person and Export pages: selections, actions and events."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, start_app_test
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store

REVIEW, PERSON, EXPORT = (str(REPO / "pages" / p) for p in ("2_Review.py", "3_Person.py", "8_Export.py"))


def page(path: str, monkeypatch, dataset: Path, *, reviewer: str = "ana", scan: bool = False) -> AppTest:
    if scan:
        from labelscope.scan import scan_dataset

        scan_dataset(dataset, workers=1)
    at = start_app_test(path, monkeypatch, dataset, reviewer=reviewer, timeout=60)
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def store_of(dataset: Path):
    return open_review_store(dataset / ".labelscope")


def test_review_relabel_of_a_selection_records_the_event(monkeypatch, mask_dataset):
    m = load_dataset(mask_dataset)
    target = m.df[m.df["group_id"] == "000001"]["image_id"].iloc[0]
    at = page(REVIEW, monkeypatch, mask_dataset, scan=True)
    at.session_state["review.gallery.selection"] = [target]
    ok(at.run())
    assert len(at.get("image")) == 21  # every image on the first page has its thumbnail
    assert at.checkbox(key=f"review.gallery.pick.{target}").value is True
    at.selectbox(key="review.actions.field").set_value("gender")
    ok(at.run())
    at.selectbox(key="review.actions.value.gender").set_value("male")
    ok(at.run())
    assert at.button(key="review.actions.relabel").disabled  # one photo of a person: asked first
    scope = at.radio(key="review.actions.scope.gender")
    assert "only some photos of 000001 (1 of 7)" in scope.label and scope.value is None
    scope.set_value("photos")
    ok(at.run())
    assert at.button(key="review.actions.relabel").label == "Relabel gender of 1 image(s)"
    at.button(key="review.actions.relabel").click()
    ok(at.run())
    ev = store_of(mask_dataset).events()
    assert ev[["reviewer", "image_id", "field", "old", "new", "action"]].values.tolist() == [
        ["ana", target, "gender", "female", "male", "relabel"]]
    assert "1 event(s) on 1 image(s) recorded as ana" in at.success[0].value
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert "✎ 000001/incorrect_mask · incorrect_male_<30" in captions  # the gallery shows the new label


def test_review_refuses_a_stale_relabel_and_names_who(monkeypatch, mask_dataset):
    m = load_dataset(mask_dataset)
    target = m.df["image_id"].iloc[0]
    at = page(REVIEW, monkeypatch, mask_dataset)
    at.session_state["review.gallery.selection"] = [target]
    ok(at.run())
    at.selectbox(key="review.actions.field").set_value("age")
    ok(at.run())
    at.radio(key="review.actions.scope.age").set_value("photos")
    ok(at.run())
    store_of(mask_dataset).relabel([target], "age", 40, reviewer="bob", manifest=m)  # another session
    at.number_input(key="review.actions.value.age").set_value(33)
    at.button(key="review.actions.relabel").click()
    ok(at.run())
    assert "bob" in at.error[0].value and "'40'" in at.error[0].value
    assert len(store_of(mask_dataset).events()) == 1


def test_checkbox_selection_then_flag_and_undo(monkeypatch, mask_dataset):
    at = page(REVIEW, monkeypatch, mask_dataset)
    ok(at.run())
    assert "No thumbnails yet" in at.info[0].value  # no scan: placeholders, not a crash
    ids = load_dataset(mask_dataset).df["image_id"].tolist()
    at.checkbox(key=f"review.gallery.pick.{ids[3]}").check()
    ok(at.run())
    at.checkbox(key=f"review.gallery.pick.{ids[5]}").check()
    ok(at.run())
    assert at.session_state["review.gallery.selection"] == [ids[3], ids[5]]
    at.button(key="review.actions.flag").click()
    ok(at.run())
    ev = store_of(mask_dataset).events()
    assert ev["action"].tolist() == ["flag", "flag"] and set(ev["image_id"]) == {ids[3], ids[5]}
    at.selectbox(key="review.filter.state").set_value("flagged")
    ok(at.run())
    assert any("images 1-2 of 2" in c.value for c in at.caption)  # only the two flagged images
    at.button(key="review.actions.undo").click()
    ok(at.run())
    assert store_of(mask_dataset).events()["action"].tolist()[-2:] == ["undo", "undo"]


def test_review_without_a_reviewer_records_nothing(monkeypatch, mask_dataset):
    at = page(REVIEW, monkeypatch, mask_dataset, reviewer="")
    at.session_state["review.gallery.selection"] = load_dataset(mask_dataset).df["image_id"].tolist()[:2]
    ok(at.run())
    assert at.button(key="review.actions.flag").disabled and at.button(key="review.actions.relabel").disabled
    assert any("reviewer name" in w.value for w in at.warning)


def test_person_swap_and_gender_for_all_seven(monkeypatch, mask_dataset):
    at = page(PERSON, monkeypatch, mask_dataset)
    at.session_state["person.current"] = "000002"
    ok(at.run())
    assert {m.label: m.value for m in at.metric}["Gender"] == "male"
    at.button(key="person.swap").click()
    ok(at.run())
    ev = store_of(mask_dataset).events()
    assert sorted(zip(ev["image_id"].str.rsplit("/", n=1).str[1], ev["new"])) == [
        ("incorrect_mask.jpg", "not_wear"), ("normal.jpg", "incorrect")]
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert "✎ incorrect_mask.jpg · not_wear" in captions and "✎ normal.jpg · incorrect" in captions
    at.selectbox(key="person.value.gender.000002").set_value("female")
    at.button(key="person.set.gender").click()
    ok(at.run())
    ev = store_of(mask_dataset).events()
    assert len(ev) == 9 and (ev.tail(7)["new"] == "female").all() and ev.tail(7)["batch"].nunique() == 1
    assert {m.label: m.value for m in at.metric}["Gender"] == "female"
    at.button(key="person.next").click()
    ok(at.run())
    assert at.session_state["person.current"] == "000003"


def test_person_page_for_a_dataset_without_groups(monkeypatch, folder_dataset):
    at = ok(page(PERSON, monkeypatch, folder_dataset).run())
    assert "no groups" in at.info[0].value


def test_export_page_shows_the_diff_and_writes_files(monkeypatch, mask_dataset):
    m = load_dataset(mask_dataset)
    store_of(mask_dataset).relabel_person("000003", "age", 59, reviewer="bob", manifest=m)
    at = ok(page(EXPORT, monkeypatch, mask_dataset).run())
    diff = at.dataframe[1].value  # [0] is the count by reviewer and field
    assert len(diff) == 7 and set(diff["reviewer"]) == {"bob"} and set(diff["after"]) == {"59"}
    assert "No export yet." in [c.value for c in at.caption]
    at.button(key="export.run").click()
    ok(at.run())
    out = mask_dataset / ".labelscope" / "exports"
    assert sorted(p.name for p in out.iterdir()) == ["labels.csv", "summary.json", "train.csv"]
    assert "7 changed" in at.success[0].value
    assert at.get("download_button")  # labels.csv, train.csv, summary.json


@pytest.mark.parametrize("path", [REVIEW, PERSON, EXPORT])
def test_pages_run_on_a_folder_dataset(monkeypatch, folder_dataset, path):
    ok(page(path, monkeypatch, folder_dataset).run())


def test_group_view_of_a_csv_dataset_sets_the_label_for_the_group(monkeypatch, tmp_path):
    from conftest import write_image

    root = tmp_path / "csvds"
    lines = ["path,label,group"]
    for i in range(5):
        write_image(root / "img" / f"{i}.png", seed=i)
        lines.append(f"img/{i}.png,{'cat' if i < 3 else 'dog'},{'g1' if i < 3 else 'g2'}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    at = page(PERSON, monkeypatch, root / "labels.csv")
    ok(at.run())
    assert at.session_state["person.current"] == "g1"
    shown = [c.value.replace("\\", "") for c in at.caption if not c.value.startswith("no thumbnail")]
    assert shown[:3] == ["0.png · cat", "1.png · cat", "2.png · cat"]
    at.selectbox(key="person.value.label.g1").set_value("dog")
    at.button(key="person.set.label").click()
    ok(at.run())
    ev = open_review_store(root / ".labelscope").events()
    assert sorted(ev["image_id"]) == ["img/0.png", "img/1.png", "img/2.png"] and set(ev["new"]) == {"dog"}
    assert not [b for b in at.button if b.key == "person.swap"]  # no swap outside the mask layout


def test_one_photo_gender_change_asked_and_applied_to_the_person(monkeypatch, mask_dataset):
    m = load_dataset(mask_dataset)
    target = m.df[m.df["group_id"] == "000002"]["image_id"].iloc[2]
    at = page(REVIEW, monkeypatch, mask_dataset)
    at.session_state["review.gallery.selection"] = [target]
    ok(at.run())
    at.selectbox(key="review.actions.field").set_value("gender")
    ok(at.run())
    at.selectbox(key="review.actions.value.gender").set_value("female")
    at.radio(key="review.actions.scope.gender").set_value("person")
    ok(at.run())
    assert at.button(key="review.actions.relabel").label == "Relabel gender of 7 image(s)"
    at.button(key="review.actions.relabel").click()
    ok(at.run())
    assert any("Really set gender to female on 7 images" in w.value for w in at.warning)
    at.button(key="review.actions.yes").click()
    ok(at.run())
    ev = store_of(mask_dataset).events()
    assert sorted(ev["image_id"]) == sorted(m.df.loc[m.df["group_id"] == "000002", "image_id"])
    assert set(ev["new"]) == {"female"} and set(ev["old"]) == {"male"}


def test_export_page_writes_the_tree_and_lists_inconsistent_persons(monkeypatch, mask_dataset, tmp_path):
    m = load_dataset(mask_dataset)
    store = store_of(mask_dataset)
    store.relabel([m.df["image_id"].iloc[0]], "gender", "male", reviewer="bob", manifest=m)
    store.swap_masks("000002", reviewer="bob", manifest=m)
    at = page(EXPORT, monkeypatch, mask_dataset)
    ok(at.run())
    assert "1 person(s) left inconsistent" in at.warning[0].value
    odd = next(d.value for d in at.dataframe if "values" in d.value.columns)
    assert odd.to_dict("records") == [{"group_id": "000001", "field": "gender", "values": "female ×6, male ×1"}]
    at.text_input(key="export.tree_dir").set_value(str(tmp_path / "tree"))
    at.button(key="export.tree").click()
    ok(at.run())
    assert "Wrote 21 images" in at.success[0].value and "21 hard links" in at.success[0].value
    src = mask_dataset / "images" / "000002_male_Asian_45"
    dst = tmp_path / "tree" / "images" / "000002_male_Asian_45"
    assert (dst / "normal.jpg").read_bytes() == (src / "incorrect_mask.jpg").read_bytes()


def test_galleries_show_a_person_per_row(mask_dataset, folder_dataset):
    from labelscope.ui.gallery import grid_shape

    assert grid_shape(load_dataset(mask_dataset).df) == (7, 28)  # 7 photos per person, 7 per row
    assert grid_shape(load_dataset(folder_dataset).df) == (6, 24)


def test_person_page_opens_a_photo_at_full_resolution(monkeypatch, mask_dataset):
    m = load_dataset(mask_dataset)
    target = m.df[m.df["group_id"] == "000001"]["image_id"].iloc[3]
    at = page(PERSON, monkeypatch, mask_dataset)
    ok(at.run())
    at.button(key=f"person.view.{target}").click()
    ok(at.run())
    text = " ".join(md.value.replace("\\", "") for md in at.markdown)
    assert f"**{target}**" in text and "48 × 64 px" in text
