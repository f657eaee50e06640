"""The synthetic demo dataset: layout, recorded noise that matches the files, determinism."""
from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from labelscope.cli import main
from labelscope.dataset import load_dataset
from labelscope.dataset.mask import AGE_GROUPS, CLASS_NAMES, age_group
from labelscope.demo import MARKER, PHOTO_STEMS, DemoPerson, draw_person, make_demo, plan_demo, true_labels
from labelscope.demo.look import grey_amount, wrinkle_amount


@pytest.fixture(scope="module")
def demo40(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo40") / "demo"
    calls: list[tuple[int, int]] = []
    summary = make_demo(out, people=40, seed=0, progress=lambda d, t: calls.append((d, t)))
    assert summary.images == 280 and summary.people == 40
    assert calls[-1] == (280, 280) and all(t == 280 for _, t in calls)
    return out


@pytest.fixture(scope="module")
def truth(demo40: Path) -> pd.DataFrame:
    return pd.read_csv(demo40 / "noise_truth.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def table(demo40: Path) -> pd.DataFrame:
    return pd.read_csv(demo40 / "train.csv", dtype={"id": str}).set_index("id")


def _tree_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_has_280_images_seven_per_person(demo40: Path, table: pd.DataFrame) -> None:
    folders = sorted((demo40 / "images").iterdir())
    assert len(folders) == 40 == len(table)
    for f in folders:
        assert sorted(x.name for x in f.iterdir()) == sorted(f"{s}.jpg" for s in PHOTO_STEMS), f
    assert sum(1 for _ in (demo40 / "images").rglob("*.jpg")) == 280
    assert list(table.columns) == ["gender", "race", "age", "path"]
    for pid, row in table.iterrows():
        assert row["path"] == f"{pid}_{row['gender']}_{row['race']}_{row['age']}"


def test_loads_as_mask_layout_without_problems(demo40: Path) -> None:
    m = load_dataset(demo40)
    assert m.layout == "mask" and len(m.df) == 280
    assert m.problems == []
    assert m.df["group_id"].nunique() == 40
    assert m.df["mask"].value_counts().to_dict() == {"wear": 200, "incorrect": 40, "not_wear": 40}


def test_true_labels_cover_all_18_classes(demo40: Path, truth: pd.DataFrame) -> None:
    t = true_labels(demo40)
    assert len(t) == 280
    assert set(t["class_index"]) == set(range(18))
    swapped = t.set_index("image_id").loc[truth.loc[truth["kind"] == "swap", "image_id"]]
    assert (swapped["fault"] == "swap").all()
    assert set(swapped["mask"]) == {"incorrect", "not_wear"}
    clean = t[t["fault"] == ""]
    m = load_dataset(demo40).df.set_index("image_id").loc[clean["image_id"]]
    assert (m["label"].to_numpy() == clean["label"].to_numpy()).all()


def test_images_are_384x512_rgb_jpegs_except_the_unreadable_one(demo40: Path, truth: pd.DataFrame) -> None:
    bad = set(truth.loc[truth["kind"] == "unreadable", "image_id"])
    assert len(bad) == 1
    for p in sorted((demo40 / "images").rglob("*.jpg")):
        iid = p.relative_to(demo40).as_posix()
        if iid in bad:
            data = p.read_bytes()
            assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is None
            with pytest.raises(Exception):
                with Image.open(p) as im:
                    im.load()
            continue
        with Image.open(p) as im:
            assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (384, 512)), iid


def test_noise_truth_counts_and_disjoint_people(truth: pd.DataFrame) -> None:
    assert list(truth.columns) == ["kind", "person", "image_id", "field", "given", "true"]
    counts = truth["kind"].value_counts().to_dict()
    assert counts == {"gender": 4, "age": 4, "swap": 8, "duplicate": 2, "unreadable": 1}
    people = {k: set(truth.loc[truth["kind"] == k, "person"]) for k in ("gender", "age", "swap")}
    assert all(len(v) == 4 for v in people.values())
    assert not (people["gender"] & people["age"] or people["gender"] & people["swap"] or people["age"] & people["swap"])
    person_level = truth[truth["kind"].isin(["gender", "age"])]
    assert (person_level["image_id"] == "").all()


def test_gender_and_age_faults_match_train_csv(demo40: Path, truth: pd.DataFrame, table: pd.DataFrame) -> None:
    for r in truth[truth["kind"] == "gender"].itertuples():
        assert r.field == "gender"
        assert table.loc[r.person, "gender"] == r.given != r.true
        assert f"_{r.given}_" in table.loc[r.person, "path"]          # folder names carry the given labels
    for r in truth[truth["kind"] == "age"].itertuples():
        assert r.field == "age"
        assert table.loc[r.person, "age"] == int(r.given)
        assert age_group(int(r.given)) != age_group(int(r.true))
    ages = [age_group(a) for a in table["age"]]
    assert set(ages) == set(AGE_GROUPS)


def test_swapped_files_hold_the_other_photo(demo40: Path, truth: pd.DataFrame, table: pd.DataFrame,
                                            tmp_path: Path) -> None:
    swaps = truth[truth["kind"] == "swap"]
    for pid, rows in swaps.groupby("person"):
        assert sorted(rows["image_id"].str.rsplit("/", n=1).str[1]) == ["incorrect_mask.jpg", "normal.jpg"]
        assert (rows["given"] != rows["true"]).all() and (rows["field"] == "mask").all()
    # redraw one swapped person without the swap: its files must be the disk's files, exchanged
    persons, _, _ = plan_demo(40, seed=0, noise_rate=0.1)
    p = next(x for x in persons if x.swap)
    (tmp_path / "images").mkdir()
    plain = DemoPerson(p.index, p.race, p.gender, p.age, p.given_gender, p.given_age, swap=False)
    assert draw_person((str(tmp_path), 0, plain)) == 7
    disk, fresh = demo40 / "images" / p.path, tmp_path / "images" / p.path
    assert (disk / "incorrect_mask.jpg").read_bytes() == (fresh / "normal.jpg").read_bytes()
    assert (disk / "normal.jpg").read_bytes() == (fresh / "incorrect_mask.jpg").read_bytes()
    assert (disk / "mask1.jpg").read_bytes() == (fresh / "mask1.jpg").read_bytes()


def test_duplicates_are_byte_identical_across_people(demo40: Path, truth: pd.DataFrame) -> None:
    labels = load_dataset(demo40).df.set_index("image_id")["label"]
    dups = truth[truth["kind"] == "duplicate"]
    assert len(dups) == 2
    for r in dups.itertuples():
        assert (demo40 / r.image_id).read_bytes() == (demo40 / r.true).read_bytes()
        assert r.image_id.split("/")[1] != r.true.split("/")[1]                  # another person's folder
        assert r.given == labels[r.image_id] and r.given in CLASS_NAMES
    hashes = _tree_hashes(demo40 / "images")
    assert len(hashes) - len(set(hashes.values())) == 2                          # no other identical files


def _unreadable_id(root: Path) -> str:
    t = pd.read_csv(root / "noise_truth.csv", dtype=str, keep_default_na=False)
    return t.loc[t["kind"] == "unreadable", "image_id"].item()


def test_same_seed_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    make_demo(tmp_path / "a", people=4, seed=5, workers=1)
    make_demo(tmp_path / "b", people=4, seed=5, workers=2)
    a, b = _tree_hashes(tmp_path / "a"), _tree_hashes(tmp_path / "b")
    assert len(a) == 4 * 7 + 3 and a == b
    make_demo(tmp_path / "c", people=4, seed=6, workers=1)
    c = _tree_hashes(tmp_path / "c")
    common = set(a.values()) & set(c.values())
    header = hashlib.sha256((tmp_path / "a" / _unreadable_id(tmp_path / "a")).read_bytes()).hexdigest()
    assert common <= {header}             # only the unreadable stub (a bare JPEG header) may coincide


def test_refuses_foreign_folder_and_needs_overwrite(demo40: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a previous labelscope demo"):
        make_demo(foreign, people=2)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    before = _tree_hashes(demo40)
    with pytest.raises(FileExistsError, match="overwrite"):
        make_demo(demo40, people=2)
    assert _tree_hashes(demo40) == before


def test_overwrite_replaces_a_previous_demo(tmp_path: Path) -> None:
    out = tmp_path / "d"
    make_demo(out, people=3, seed=1, workers=1)
    first = {p.name for p in (out / "images").iterdir()}
    make_demo(out, people=2, seed=2, workers=1, overwrite=True)
    second = {p.name for p in (out / "images").iterdir()}
    assert len(second) == 2 and len(first) == 3
    assert sum(1 for _ in (out / "images").rglob("*.jpg")) == 14
    assert (out / MARKER).is_file() and len(pd.read_csv(out / "train.csv")) == 2


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="noise_rate"):
        make_demo(tmp_path / "x", people=10, noise_rate=0.5)
    with pytest.raises(ValueError, match="people"):
        make_demo(tmp_path / "y", people=1)
    assert not (tmp_path / "x").exists()


def test_age_cues_separate_the_three_groups() -> None:
    rng = np.random.default_rng(0)
    grey = {g: [grey_amount(a, rng) for a in ages for _ in range(5)]
            for g, ages in (("young", range(18, 30)), ("mid", range(30, 60)), ("old", range(60, 80)))}
    assert max(grey["young"]) == 0 and max(grey["mid"]) < min(grey["old"])
    assert wrinkle_amount(29) == 0 < wrinkle_amount(30) and wrinkle_amount(59) < wrinkle_amount(60)


def test_cli_writes_demo_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main(["demo", str(out), "--people", "2", "--seed", "3", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "wrote 14 images of 2 people" in captured.out
    assert "drawing 14/14 images" in captured.err
    assert main(["demo", str(out), "--people", "2"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert main(["demo", str(out), "--people", "2", "--overwrite", "--noise-rate", "0", "--workers", "1"]) == 0
