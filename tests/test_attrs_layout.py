"""The fourth layout, a multi-attribute CSV (``path,mask,gender,age[,group]``), end to end.

It is one module (``dataset/attrs.py``) supplying a LayoutSchema; nothing else names it. These
tests run it through check, scan, suspects, review, export (labels + tree), train and every page.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, start_app_test
from labelscope.cli import main
from labelscope.dataset import check_dataset, detect_layout, load_dataset

PAGES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]


def write_attrs(demo: Path, out: Path, *, groups: bool = True, bad_rows: bool = False) -> Path:
    """``out/attrs.csv`` + hard-linked images: the demo dataset re-told as a multi-attribute CSV."""
    m = load_dataset(demo)
    rows = []
    for r in m.df.itertuples():
        dst = out / "photos" / r.image_id.replace("images/", "", 1)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            os.link(demo / r.image_id, dst)
        rows.append({"path": dst.relative_to(out).as_posix(), "mask": r.mask, "gender": r.gender, "age": r.age,
                     **({"group": r.group_id} if groups else {})})
    df = pd.DataFrame(rows)
    text = df.to_csv(index=False)
    if bad_rows:
        text += "photos/nope.jpg,wear,male,30" + (",x" if groups else "") + "\n"
        text += f"{rows[0]['path']}x,wear,male,forty" + (",x" if groups else "") + "\n"
        text += f"{rows[1]['path']}y,hat,male,30" + (",x" if groups else "") + "\n"
    (out / "attrs.csv").write_text(text)
    return out / "attrs.csv"


@pytest.fixture(scope="module")
def attrs_csv(demo_dataset: Path, tmp_path_factory) -> Path:
    """A scanned, embedded and ranked attrs dataset (84 images, 12 groups), shared by the module."""
    csv = write_attrs(demo_dataset, tmp_path_factory.mktemp("attrs"))
    assert main(["scan", str(csv)]) == 0
    assert main(["embed", str(csv), "--embedder", "pixels", "--project", "pca"]) == 0
    assert main(["suspects", str(csv), "--embedders", "pixels", "--out", str(csv.parent / "s.csv")]) == 0
    return csv


def test_check_detects_the_layout_and_names_bad_rows(demo_dataset, tmp_path, capsys):
    csv = write_attrs(demo_dataset, tmp_path, bad_rows=True)
    assert detect_layout(csv) == "attrs"
    m = check_dataset(csv)
    assert m.layout == "attrs" and m.schema.factor_names == ["mask", "gender", "age_group"]
    assert len(m.df) == 84 and m.df["group_id"].nunique() == 12 and len(m.classes) == 18
    codes = {p.code: p.row for p in m.problems}
    assert codes == {"missing_image": 86, "bad_age": 87, "unknown_value": 88}
    assert (m.df["class_index"] == [m.schema.class_of(mask=a, gender=b, age=c)
                                    for a, b, c in zip(m.df["mask"], m.df["gender"], m.df["age"])]).all()
    assert main(["check", str(csv)]) == 0
    assert "(attrs layout): 84 usable images" in capsys.readouterr().out


def test_without_groups_the_fields_are_set_per_image(demo_dataset, tmp_path):
    m = load_dataset(write_attrs(demo_dataset, tmp_path, groups=False))
    assert not m.has_groups and m.person_fields == ["gender", "age"]
    assert m.df["label"].isin(m.classes).all()


def test_plain_path_label_csv_stays_the_csv_layout(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "l.csv").write_text("path,label\na.jpg,cat\n")
    assert detect_layout(tmp_path / "l.csv") == "csv"


def test_scan_and_suspects_cover_every_image_and_the_person_check(attrs_csv):
    sus = pd.read_csv(attrs_csv.parent / "s.csv", dtype=str, keep_default_na=False)
    assert {"person", "label"} <= set(sus["issue"])  # groups are people: the person check runs
    assert set(sus.loc[sus["issue"] == "label", "field"]) == {"mask"}  # the image's own attribute
    assert (attrs_csv.parent / ".labelscope" / "features.parquet").exists()


def test_review_export_and_tree_round_trip(attrs_csv, tmp_path):
    from labelscope.review import ReviewError, export_labels, export_tree, open_review_store
    from labelscope.review.export import LABELS_COLUMNS_MASK

    m = load_dataset(attrs_csv)
    store = open_review_store(tmp_path / "ws")
    group = m.df["group_id"].iloc[0]
    rows = m.df[m.df["group_id"] == group]
    old = rows["gender"].iloc[0]
    new = "male" if old == "female" else "female"
    store.relabel_person(group, "gender", new, reviewer="ana", manifest=m)
    store.relabel_person(group, "age", "70", reviewer="ana", manifest=m)
    with pytest.raises(ReviewError, match="whole number"):
        store.relabel_person(group, "age", "131", reviewer="ana", manifest=m)
    with pytest.raises(ReviewError, match="unknown field 'race'"):
        store.relabel(rows["image_id"][:1].tolist(), "race", "x", reviewer="ana", manifest=m)
    store.swap_masks(group, reviewer="ana", manifest=m)
    cur = store.current_labels(m).df.set_index("image_id").loc[rows["image_id"]]
    assert (cur["gender"] == new).all() and (cur["age_group"] == ">=60").all()
    assert cur["label"].str.endswith(f"_{new}_>=60").all()

    res = export_labels(m, store, tmp_path / "export")
    labels = pd.read_csv(res.files["labels.csv"], dtype=str, keep_default_na=False)
    assert list(labels.columns) == LABELS_COLUMNS_MASK and set(res.files) == {"labels.csv", "summary.json"}
    tree = export_tree(m, store, tmp_path / "tree")
    again = load_dataset(tmp_path / "tree" / attrs_csv.name)
    assert again.layout == "attrs" and len(again.df) == tree.images == len(m.df)
    moved = again.df.set_index("image_id").loc[rows["image_id"]]
    assert (moved["gender"] == new).all() and (moved["age"] == 70).all()
    assert sorted(moved["mask"]) == sorted(cur["mask"])


def test_train_on_its_export_scores_every_factor(attrs_csv, tmp_path):
    assert main(["export", str(attrs_csv), "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "ex")]) == 0
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "ex" / "labels.csv"), "--dataset", str(attrs_csv.parent), "--out", str(run),
                 "--model", "small", "--img-size", "32", "--folds", "2", "--epochs", "1", "--no-progress",
                 "--workspace", str(tmp_path / "ws")]) == 0
    oof = json.loads((run / "metrics.json").read_text())["oof"]
    assert {"macro_f1", "f1_mask", "f1_gender", "f1_age_group"} <= set(oof)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_every_page_renders(path, monkeypatch, attrs_csv):
    at = start_app_test(path, monkeypatch, attrs_csv, timeout=90)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    if path.stem == "3_Person":
        assert at.title[0].value == "Person" and at.selectbox(key="person.pick").label == "Person id"
        assert any(b.label.startswith("Swap") for b in at.button)
    if path.stem == "2_Review":
        assert at.multiselect(key="review.filter.age_group").options == ["<30", "30-59", ">=60"]
