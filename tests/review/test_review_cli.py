"""``labelscope review apply|log`` and ``labelscope export``."""
from __future__ import annotations

import json

import pytest

from labelscope.cli import main
from labelscope.dataset import load_dataset
from labelscope.review import ReviewError, open_review_store, read_fixes


@pytest.fixture
def ws(tmp_path):
    return tmp_path / "ws"


def apply(dataset, fixes, ws, reviewer="ana"):
    return main(["review", "apply", str(dataset), str(fixes), "--reviewer", reviewer, "--workspace", str(ws)])


def test_apply_person_and_image_rows_then_log(tmp_path, mask_dataset, ws, capsys):
    m = load_dataset(mask_dataset)
    normal = m.df[(m.df["group_id"] == "000002") & (m.df["mask"] == "not_wear")]["image_id"].item()
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("person,image_id,field,new,old,note\n"
                     "000001,,gender,male,female,team list\n"
                     f",{normal},mask,incorrect,normal,\n"
                     f",{normal},excluded,1,,blurry\n")
    assert apply(mask_dataset, fixes, ws) == 0
    assert "applied 9 change(s) to 8 image(s)" in capsys.readouterr().out
    ev = open_review_store(ws).events()
    assert len(ev) == 9 and ev["batch"].nunique() == 1 and set(ev["reviewer"]) == {"ana"}
    assert ev.loc[ev["field"] == "excluded", "note"].item() == "blurry"
    assert ev.loc[ev["field"] == "gender", "note"].tolist() == ["team list"] * 7
    cur = open_review_store(ws).current_labels(m).df.set_index("image_id")
    assert cur.loc[normal, "mask"] == "incorrect" and cur.loc[normal, "excluded"]
    assert main(["review", "log", str(mask_dataset), "--workspace", str(ws), "--json"]) == 0
    logged = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in logged] == list(range(1, 10)) and logged[0]["action"] == "relabel"
    assert main(["review", "log", str(mask_dataset), "--workspace", str(ws), "--limit", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "exclude" in out[0] and "blurry" in out[0]


def test_apply_is_all_or_nothing_and_names_every_bad_row(tmp_path, mask_dataset, ws, capsys):
    m = load_dataset(mask_dataset)
    first = m.df["image_id"].iloc[0]
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("image_id,field,new\n"
                     f"{first},age,40\n"
                     "images/ghost.jpg,age,40\n"
                     f"{first},gender,robot\n"
                     f"{first},age,41\n")
    assert apply(mask_dataset, fixes, ws) == 1
    err = capsys.readouterr().err
    assert "3 bad row(s); nothing was applied" in err
    assert "fixes.csv:3: unknown image id 'images/ghost.jpg'" in err
    assert "fixes.csv:4: unknown gender 'robot'" in err
    assert "fixes.csv:5: age of" in err and "already changed on line 2" in err
    assert open_review_store(ws).version() == 0


def test_apply_refuses_stale_old_values(tmp_path, mask_dataset, ws, capsys):
    m = load_dataset(mask_dataset)
    iid = m.df["image_id"].iloc[0]
    open_review_store(ws).relabel([iid], "age", 31, reviewer="bob", manifest=m)
    fixes = tmp_path / "fixes.csv"
    fixes.write_text(f"image_id,field,new,old\n{iid},age,26,25\n")
    assert apply(mask_dataset, fixes, ws) == 1
    err = capsys.readouterr().err
    assert "changed to '31' by bob" in err and "you saw '25'" in err
    assert open_review_store(ws).version() == 1


def test_apply_needs_a_reviewer_and_known_columns(tmp_path, mask_dataset, ws, capsys):
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("id,label\n1,2\n")
    assert apply(mask_dataset, fixes, ws) == 1
    assert "needs columns image_id or person, field, new" in capsys.readouterr().err
    fixes.write_text(f"image_id,field,new\n{load_dataset(mask_dataset).df['image_id'].iloc[0]},age,3\n")
    assert apply(mask_dataset, fixes, ws, reviewer=" ") == 1
    assert "reviewer name is required" in capsys.readouterr().err


def test_read_fixes_person_rows_only_for_person_fields(tmp_path, mask_dataset):
    fixes = tmp_path / "f.csv"
    fixes.write_text("person,field,new\n000001,mask,wear\n")
    with pytest.raises(ReviewError, match="not a person-level field"):
        read_fixes(fixes, load_dataset(mask_dataset))


def test_export_command_writes_the_files(tmp_path, mask_dataset, ws, capsys):
    out = tmp_path / "out"
    assert main(["export", str(mask_dataset), "--workspace", str(ws), "--out", str(out)]) == 0
    assert "exported 21 images (0 changed, 0 excluded" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["labels.csv", "summary.json", "train.csv"]


def test_log_of_an_empty_store(mask_dataset, ws, capsys):
    assert main(["review", "log", str(mask_dataset), "--workspace", str(ws)]) == 0
    assert "no review events yet" in capsys.readouterr().out


def test_log_of_a_missing_dataset_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["review", "log", str(missing)]) == 1
    assert "does not exist" in capsys.readouterr().err and not missing.exists()
    assert main(["review"]) == 2  # no action: help
