"""Corrected-label export: schema, person fixes, determinism, atomicity under a kill."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from labelscope.dataset import load_dataset
from labelscope.review import export_labels, open_review_store
from labelscope.review.export import LABELS_COLUMNS, LABELS_COLUMNS_MASK, TRAIN_COLUMNS, neutralise

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_labels_csv_schema_and_values(tmp_path, mask, store):
    ids = mask.df["image_id"].tolist()
    store.exclude(ids[:2], reviewer="ana")
    store.relabel(ids[-1:], "mask", "wear", reviewer="bob")  # person 3's normal.jpg
    r = export_labels(mask, store, tmp_path / "out")
    labels = read(tmp_path / "out" / "labels.csv")
    assert list(labels.columns) == LABELS_COLUMNS_MASK
    assert labels["image_id"].tolist() == sorted(ids) and (labels["path"] == labels["image_id"]).all()
    assert all((mask.root / p).is_file() for p in labels["path"])  # relative to the dataset root
    assert labels["excluded"].tolist()[:3] == ["1", "1", "0"] and set(labels["excluded"]) == {"0", "1"}
    row = labels.set_index("image_id").loc[ids[-1]]
    assert (row["mask"], row["changed"], row["last_reviewer"]) == ("wear", "1", "bob")
    assert row["label"] == f"wear_{row['gender']}_{row['age_group']}"
    assert int(row["class_index"]) == 0 * 6 + (row["gender"] == "female") * 3 + ["<30", "30-59", ">=60"].index(row["age_group"])
    assert (r.rows, r.changed, r.excluded) == (21, 1, 2)
    train = read(tmp_path / "out" / "train.csv")
    assert list(train.columns) == TRAIN_COLUMNS and train["id"].tolist() == ["000001", "000002", "000003"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["actions"] == {"exclude": 2, "relabel": 1}
    assert summary["events"]["first_id"] == 1 and summary["events"]["last_id"] == 3
    assert summary["classes"]["before"] != summary["classes"]["after"]
    for name in ("labels.csv", "train.csv"):
        data = (tmp_path / "out" / name).read_bytes()
        assert summary["files"][name]["sha256"] == hashlib.sha256(data).hexdigest()


def test_person_gender_fix_changes_exactly_that_persons_rows(tmp_path, mask, store):
    before = export_labels(mask, store, tmp_path / "before")
    store.relabel_person("000002", "gender", "female", reviewer="ana", manifest=mask)
    after = export_labels(mask, store, tmp_path / "after")
    a, b = read(before.files["labels.csv"]), read(after.files["labels.csv"])
    diff = (a != b).any(axis=1)
    assert b.loc[diff, "person"].tolist() == ["000002"] * 7
    assert set(b.loc[diff, "gender"]) == {"female"} and set(b.loc[diff, "changed"]) == {"1"}
    assert set(b.loc[diff, "label"].str.split("_").str[-2]) == {"female"}
    ta, tb = read(before.files["train.csv"]), read(after.files["train.csv"])
    tdiff = (ta != tb).any(axis=1)
    assert tb.loc[tdiff, ["id", "gender"]].values.tolist() == [["000002", "female"]]
    assert (ta.loc[tdiff, ["race", "age", "path"]].values == tb.loc[tdiff, ["race", "age", "path"]].values).all()


def test_train_csv_takes_the_persons_majority_value(tmp_path, mask, store):
    ids = mask.df[mask.df["group_id"] == "000001"]["image_id"].tolist()
    store.relabel(ids[:4], "age", 50, reviewer="ana")  # 4 of 7 photos say 50
    train = read(export_labels(mask, store, tmp_path / "o").files["train.csv"]).set_index("id")
    assert train.loc["000001", "age"] == "50"
    store.undo("ana")
    store.relabel(ids[:1], "age", 50, reviewer="ana")  # 1 of 7: the dataset's 25 stays
    train = read(export_labels(mask, store, tmp_path / "o").files["train.csv"]).set_index("id")
    assert train.loc["000001", "age"] == "25"


def test_export_twice_is_byte_identical(tmp_path, mask, store):
    store.flag(mask.df["image_id"].tolist()[:3], reviewer="ana")
    store.relabel_person("000003", "age", 61, reviewer="ana", manifest=mask)
    first = export_labels(mask, store, tmp_path / "out")
    snap = {n: p.read_bytes() for n, p in first.files.items()}
    second = export_labels(mask, open_review_store(tmp_path / "ws"), tmp_path / "out")
    assert {n: p.read_bytes() for n, p in second.files.items()} == snap
    store.flag(mask.df["image_id"].tolist()[5:6], reviewer="ana")
    third = export_labels(mask, store, tmp_path / "out")
    assert third.files["summary.json"].read_bytes() != snap["summary.json"]


def test_folder_layout_writes_labels_csv_alone(tmp_path, folder_dataset):
    m = load_dataset(folder_dataset)
    s = open_review_store(tmp_path / "ws", manifest=m)
    s.relabel(["dog/1.jpg"], "label", "cat", reviewer="ana")
    r = export_labels(m, s, tmp_path / "out")
    assert set(r.files) == {"labels.csv", "summary.json"}
    labels = read(r.files["labels.csv"])
    assert list(labels.columns) == LABELS_COLUMNS
    assert labels.set_index("image_id").loc["dog/1.jpg", ["label", "changed"]].tolist() == ["cat", "1"]


def test_formulas_are_neutralised_in_free_text_only(tmp_path, mask_dataset):
    """Reviewer names are free text a spreadsheet would run; labels and attributes are data
    that training reads back, so they round-trip exactly."""
    text = (mask_dataset / "train.csv").read_text().replace(",Asian,25,", ",=HYPERLINK(1),25,")
    (mask_dataset / "train.csv").write_text(text)
    m = load_dataset(mask_dataset)
    s = open_review_store(tmp_path / "ws", manifest=m)
    s.relabel(m.df["image_id"].tolist()[-1:], "race", "+cmd", reviewer="@evil")
    r = export_labels(m, s, tmp_path / "out")
    train = list(csv.DictReader(io.StringIO(r.files["train.csv"].read_text())))
    assert train[0]["race"] == "=HYPERLINK(1)"
    labels = r.files["labels.csv"].read_text()
    assert "'@evil" in labels and ",@evil" not in labels
    assert [neutralise(v) for v in ("=1", "-2", "a=b", "", None, 3)] == ["'=1", "'-2", "a=b", "", "", "3"]


DYING_EXPORT = r"""
import os, signal, sys
import labelscope.review.export as ex
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store
from labelscope.workspace import atomic_write
root, ws, out, target = sys.argv[1:5]
real = ex.write_bytes

def dying(data, path):
    if path.name != target:
        return real(data, path)
    def half_then_die(tmp):
        with open(tmp, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    return atomic_write(path, half_then_die)

ex.write_bytes = dying
ex.export_labels(load_dataset(root), open_review_store(ws), out)
"""


@pytest.mark.parametrize("target", ["labels.csv", "train.csv"])
def test_export_killed_mid_write_leaves_old_files_whole(tmp_path, mask_dataset, mask, store, target):
    out = tmp_path / "out"
    old = {n: p.read_bytes() for n, p in export_labels(mask, store, out).files.items()}
    store.relabel_person("000001", "gender", "male", reviewer="ana", manifest=mask)
    p = subprocess.run([sys.executable, "-c", DYING_EXPORT, str(mask_dataset), str(tmp_path / "ws"), str(out), target],
                       env=ENV, cwd=REPO, capture_output=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr.decode()
    now = {n: (out / n).read_bytes() for n in old}
    assert now[target] == old[target] and now["summary.json"] == old["summary.json"]
    for name in ("labels.csv", "train.csv"):
        assert len(read(out / name)) == (21 if name == "labels.csv" else 3)  # every file parses, whole
    if target == "train.csv":  # labels.csv was already replaced: new and whole
        assert set(read(out / "labels.csv").query("person == '000001'")["gender"]) == {"male"}
    assert list(out.glob(f".{target}.*.tmp"))  # the half-written temporary never replaced the file
    fresh = export_labels(mask, store, out)
    summary = json.loads(fresh.files["summary.json"].read_text())
    assert summary["files"]["train.csv"]["sha256"] == hashlib.sha256((out / "train.csv").read_bytes()).hexdigest()
