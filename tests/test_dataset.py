"""Ingestion of the three layouts and validation of bad input, by file and row."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelscope.cli import main
from labelscope.dataset import DatasetError, check_dataset, detect_layout, load_dataset
from labelscope.dataset.mask import CLASS_NAMES, class_index

from conftest import make_mask_dataset, write_image


def codes(m):
    return sorted(p.code for p in m.problems)


def test_mask_layout_columns_and_classes(mask_dataset: Path):
    m = load_dataset(mask_dataset)
    assert m.layout == "mask" and len(m) == 21 and not m.problems
    row = m.df[m.df.image_id == "images/000002_male_Asian_45/incorrect_mask.jpg"].iloc[0]
    assert (row["mask"], row["gender"], row["age"], row["age_group"]) == ("incorrect", "male", 45, "30-59")
    assert row["class_index"] == 1 * 6 + 0 * 3 + 1 == class_index("incorrect", "male", 45)
    assert row["label"] == CLASS_NAMES[row["class_index"]]
    assert row["group_id"] == "000002" and row["csv_row"] == 3
    assert m.df.groupby("group_id").size().tolist() == [7, 7, 7]
    assert set(m.df[m.df["mask"] == "wear"]["image_id"].str.extract(r"/(mask\d)\.jpg$")[0]) == {
        "mask1", "mask2", "mask3", "mask4", "mask5"}


@pytest.mark.parametrize("age,group", [(0, "<30"), (29, "<30"), (30, "30-59"), (59, "30-59"), (60, ">=60")])
def test_age_group_boundaries(tmp_path: Path, age: int, group: str):
    m = load_dataset(make_mask_dataset(tmp_path / "d", [("000009", "male", "Asian", age)]))
    assert set(m.df["age_group"]) == {group}


def test_mask_bad_rows_are_named_and_the_rest_kept(tmp_path: Path):
    root = make_mask_dataset(tmp_path / "d", [("000001", "female", "Asian", 25), ("000002", "male", "Asian", 45),
                                              ("000003", "female", "Asian", 33), ("000004", "male", "Asian", 20)])
    csv = root / "train.csv"
    lines = csv.read_text().splitlines()
    lines[2] = lines[2].replace(",male,", ",mlae,")            # unknown gender, line 3
    lines[3] = lines[3].replace(",33,", ",forty,")             # non-integer age, line 4
    lines.append("000001,female,Asian,25,000001_female_Asian_25")  # duplicate id, line 6
    lines.append("000007,male,Asian,50,../../etc")             # escapes root, line 7
    lines.append("000008,male,Asian,50,000008_missing")        # missing folder, line 8
    csv.write_text("\n".join(lines) + "\n")
    (root / "images" / "000004_male_Asian_20" / "normal.jpg").unlink()  # 6 photos
    before = csv.read_bytes()
    m = check_dataset(root)
    by_code = {p.code: p for p in m.problems}
    assert by_code["unknown_value"].row == 3 and "mlae" in by_code["unknown_value"].message
    assert by_code["bad_age"].row == 4 and "forty" in by_code["bad_age"].message
    assert by_code["duplicate_id"].row == 6
    assert by_code["outside_root"].row == 7
    assert by_code["missing_image"].row == 8
    assert by_code["person_incomplete"].file == "images/000004_male_Asian_20" and "normal" in by_code[
        "person_incomplete"].message
    assert not m.errors
    assert sorted(m.df.group_id.unique()) == ["000001", "000004"]
    assert len(m.df) == 7 + 6
    assert csv.read_bytes() == before  # the original CSV is never modified


def test_mask_unreadable_csv_is_an_error(tmp_path: Path):
    root = make_mask_dataset(tmp_path / "d")
    (root / "train.csv").write_bytes(b"\x00\x01\x02binary")
    m = check_dataset(root)
    assert [p.code for p in m.errors] == ["unreadable_csv"]
    with pytest.raises(DatasetError, match="train.csv"):
        load_dataset(root)


def test_mask_missing_columns(tmp_path: Path):
    root = make_mask_dataset(tmp_path / "d")
    (root / "train.csv").write_text("id,gender,path\n000001,female,x\n")
    m = check_dataset(root)
    assert m.errors[0].code == "missing_columns" and "age" in m.errors[0].message


def test_folder_layout_ignores_dot_folders_and_non_images(folder_dataset: Path):
    m = load_dataset(folder_dataset)
    assert m.layout == "folder" and detect_layout(folder_dataset) == "folder"
    assert len(m) == 8 and m.classes == ["cat", "dog"]
    assert not any(i.startswith(".") for i in m.df.image_id)
    assert m.df.loc[m.df.image_id == "dog/2.jpg", "label"].item() == "dog"


def test_folder_symlink_outside_root_rejected(folder_dataset: Path, tmp_path: Path):
    outside = write_image(tmp_path / "outside.jpg")
    (folder_dataset / "cat" / "link.jpg").symlink_to(outside)
    m = check_dataset(folder_dataset)
    assert "cat/link.jpg" not in set(m.df.image_id)
    assert any(p.code == "outside_root" and p.file == "cat/link.jpg" for p in m.problems)


def test_empty_dataset_is_an_error(tmp_path: Path):
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    m = check_dataset(tmp_path / "empty")
    assert [p.code for p in m.errors] == ["empty_dataset"]


def test_csv_manifest_bad_rows_named_by_row(tmp_path: Path):
    root = tmp_path / "csvds"
    write_image(root / "imgs" / "a.jpg")
    write_image(root / "imgs" / "b.jpg")
    write_image(tmp_path / "secret.jpg")
    csv = root / "list.csv"
    csv.write_bytes("\ufeffpath,label,group\nimgs/a.jpg,cat,g1\n../secret.jpg,dog,\nimgs/missing.jpg,dog,\n"
                    "imgs/a.jpg,cat,g1\nimgs/b.jpg,dog,g2\n".encode("utf-8"))
    m = check_dataset(csv)
    assert m.layout == "csv" and m.root == root.resolve()
    assert {(p.code, p.row) for p in m.problems} == {("outside_root", 3), ("missing_image", 4), ("duplicate_id", 5)}
    assert m.df.image_id.tolist() == ["imgs/a.jpg", "imgs/b.jpg"]
    assert m.df.group_id.tolist() == ["g1", "g2"]


def test_csv_missing_columns_and_garbage(tmp_path: Path):
    (tmp_path / "a.csv").write_text("file,class\nx.jpg,cat\n")
    assert check_dataset(tmp_path / "a.csv").errors[0].code == "missing_columns"
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert check_dataset(tmp_path / "b.csv").errors[0].code == "unreadable_csv"


def test_check_cli_exit_codes_and_json(tmp_path: Path, capsys, mask_dataset: Path):
    root = tmp_path / "csvds"
    write_image(root / "a.jpg")
    (root / "l.csv").write_text("path,label\na.jpg,cat\n../x.jpg,dog\nnope.jpg,dog\na.jpg,cat\n")
    assert main(["check", str(root / "l.csv"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["usable"] and report["images"] == 1
    assert sorted((p["code"], p["row"]) for p in report["problems"]) == [
        ("duplicate_id", 5), ("missing_image", 4), ("outside_root", 3)]
    assert main(["check", str(mask_dataset)]) == 0
    assert "21 usable images" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "nope")]) == 1
    assert "not_found" in capsys.readouterr().out
