"""The corrected dataset tree: competition layout (swaps, person fixes, exclusions) and ImageFolder."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from labelscope.dataset import load_dataset
from labelscope.review import ReviewError, export_tree, inconsistent_persons, open_review_store
from labelscope.review.tree import MARKER

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root) -> dict[str, tuple[int, int]]:
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and ".labelscope" not in p.parts}


def test_mask_tree_applies_swap_person_fix_and_exclusion(tmp_path, mask, store):
    src = mask.root / "images"
    before = snapshot(mask.root)
    store.swap_masks("000001", reviewer="ana", manifest=mask)
    store.relabel_person("000002", "gender", "female", reviewer="ana", manifest=mask)
    store.relabel_person("000002", "age", 61, reviewer="ana", manifest=mask)
    store.exclude(["images/000003_female_Asian_62/mask2.jpg"], reviewer="ana", manifest=mask)
    r = export_tree(mask, store, tmp_path / "tree")
    tree = tmp_path / "tree"
    # the swap: the tree's incorrect_mask.jpg is the source's normal.jpg and the other way round
    p1 = tree / "images" / "000001_female_Asian_25"
    assert digest(p1 / "incorrect_mask.jpg") == digest(src / "000001_female_Asian_25" / "normal.jpg")
    assert digest(p1 / "normal.jpg") == digest(src / "000001_female_Asian_25" / "incorrect_mask.jpg")
    assert digest(p1 / "mask1.jpg") == digest(src / "000001_female_Asian_25" / "mask1.jpg")
    # the person fix renames the folder, the CSV carries it
    assert not (tree / "images" / "000002_male_Asian_45").exists()
    assert len(list((tree / "images" / "000002_female_Asian_61").iterdir())) == 7
    train = pd.read_csv(tree / "train.csv", dtype=str)
    assert train.to_dict("records")[1] == {"id": "000002", "gender": "female", "race": "Asian", "age": "61",
                                           "path": "000002_female_Asian_61"}
    assert list(train.columns) == ["id", "gender", "race", "age", "path"] and len(train) == 3
    # exclusion leaves the file out
    p3 = tree / "images" / "000003_female_Asian_62"
    assert sorted(f.name for f in p3.iterdir()) == sorted(f"{s}.jpg" for s in (
        "mask1", "mask3", "mask4", "mask5", "incorrect_mask", "normal"))
    assert (r.images, r.excluded, r.linked + r.copied) == (20, 1, 20)
    assert r.renamed == {"000002_male_Asian_45": "000002_female_Asian_61"}
    assert r.linked == 20  # same filesystem: hard links
    assert os.path.samefile(p1 / "mask1.jpg", src / "000001_female_Asian_25" / "mask1.jpg")
    assert snapshot(mask.root) == before  # the source is only read
    # the tree is a dataset of its own, loadable as such, with the corrected labels
    again = load_dataset(tree)
    assert len(again) == 20 and set(again.df.loc[again.df["group_id"] == "000002", "gender"]) == {"female"}
    row = again.df.set_index("image_id").loc["images/000001_female_Asian_25/incorrect_mask.jpg"]
    assert row["mask"] == "incorrect"


def test_mask_tree_rewrites_a_previous_tree_and_refuses_other_folders(tmp_path, mask, store):
    export_tree(mask, store, tmp_path / "tree")
    store.exclude(["images/000001_female_Asian_25/mask1.jpg"], reviewer="ana", manifest=mask)
    r = export_tree(mask, store, tmp_path / "tree")  # a previous tree is replaced whole
    assert r.images == 20 and not (tmp_path / "tree" / "images" / "000001_female_Asian_25" / "mask1.jpg").exists()
    assert (tmp_path / "tree" / MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tree")] == []  # no temp left behind
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.docx").write_text("mine")
    with pytest.raises(ReviewError, match="not empty"):
        export_tree(mask, store, other)
    with pytest.raises(ReviewError, match="inside the dataset"):
        export_tree(mask, store, mask.root / "images" / "fixed")
    with pytest.raises(ReviewError, match="contain the dataset"):
        export_tree(mask, store, tmp_path)
    assert (other / "thesis.docx").read_text() == "mine"


def test_one_photo_gender_change_is_listed_as_inconsistent(tmp_path, mask, store):
    store.relabel(["images/000003_female_Asian_62/mask1.jpg"], "gender", "male", reviewer="ana", manifest=mask)
    r = export_tree(mask, store, tmp_path / "tree")
    assert r.inconsistent.to_dict("records") == [{"group_id": "000003", "field": "gender",
                                                  "values": "female ×6, male ×1"}]
    train = pd.read_csv(tmp_path / "tree" / "train.csv", dtype=str)
    assert train.loc[train["id"] == "000003", "gender"].item() == "female"  # the majority is carried
    assert inconsistent_persons(store.current_labels(mask)).shape == (1, 3)


def test_two_photos_claiming_one_file_name_leave_one_out_and_say_so(tmp_path, mask, store):
    store.relabel(["images/000001_female_Asian_25/mask1.jpg"], "mask", "not_wear", reviewer="ana", manifest=mask)
    r = export_tree(mask, store, tmp_path / "tree")
    assert r.left_out == [("images/000001_female_Asian_25/mask1.jpg",
                           "another photo of this person already takes the not_wear file name")]
    assert r.images == 20


def test_folder_tree_moves_relabelled_images_to_their_class(tmp_path, folder_dataset):
    m = load_dataset(folder_dataset)
    store = open_review_store(tmp_path / "ws", manifest=m)
    store.relabel(["cat/1.jpg"], "label", "dog", reviewer="ana", manifest=m)
    store.exclude(["dog/3.jpg"], reviewer="ana", manifest=m)
    r = export_tree(m, store, tmp_path / "tree")
    tree = tmp_path / "tree"
    assert sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.jpg")) == [
        "cat/0.jpg", "cat/2.jpg", "cat/3.jpg", "dog/0.jpg", "dog/1.jpg", "dog/1__from_cat.jpg", "dog/2.jpg"]
    assert digest(tree / "dog" / "1__from_cat.jpg") == digest(folder_dataset / "cat" / "1.jpg")
    assert digest(tree / "dog" / "1.jpg") == digest(folder_dataset / "dog" / "1.jpg")
    assert (r.images, r.excluded) == (7, 1) and r.inconsistent.empty
    assert load_dataset(tree).df["label"].value_counts().to_dict() == {"dog": 4, "cat": 3}


def test_tree_copies_when_asked(tmp_path, folder_dataset):
    m = load_dataset(folder_dataset)
    store = open_review_store(tmp_path / "ws", manifest=m)
    r = export_tree(m, store, tmp_path / "tree", link=False)
    assert (r.linked, r.copied) == (0, 8)
    assert not os.path.samefile(tmp_path / "tree" / "cat" / "0.jpg", folder_dataset / "cat" / "0.jpg")


def test_cli_export_tree_from_another_folder(tmp_path, mask_dataset):
    out = subprocess.run([sys.executable, "-m", "labelscope", "export", str(mask_dataset), "--tree",
                          str(tmp_path / "tree")], env=ENV, cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "21 images (21 hard links, 0 copies; 0 excluded" in out.stdout
    assert (tmp_path / "tree" / "train.csv").is_file() and not (tmp_path / "exports").exists()
