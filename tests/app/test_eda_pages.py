"""AppTest of the Colours, Faces and Quality pages on a scanned copy of the demo dataset."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, start_app_test
from labelscope.review import open_review_store

APP = str(REPO / "app.py")
COLOURS, FACES, QUALITY = (str(REPO / "pages" / p) for p in ("1_Colours.py", "5_Faces.py", "7_Quality.py"))


@pytest.fixture(scope="module")
def scanned_demo(demo_dataset: Path, tmp_path_factory) -> Path:
    """A scanned copy of the demo (shared by this module's tests; each test uses what it needs)."""
    from labelscope.scan import scan_dataset

    dst = tmp_path_factory.mktemp("eda") / "demo"
    shutil.copytree(demo_dataset, dst, ignore=shutil.ignore_patterns(".labelscope"))
    scan_dataset(dst, workers=1)
    return dst


def page(path: str, monkeypatch, dataset: Path, *, reviewer: str = "ana") -> AppTest:
    at = start_app_test(APP, monkeypatch, dataset, reviewer=reviewer, timeout=120)
    return Paged(at, path)


class Paged:
    """An AppTest started at app.py whose first ``run()`` switches to the page (the sidebar's
    page links resolve only against the real entry point); later calls pass through."""

    def __init__(self, at: AppTest, path: str):
        self._at, self._path, self._started = at, path, False

    def run(self, **kw) -> AppTest:
        if not self._started:
            self._started = True
            self._at.run(**kw)
            return self._at.switch_page(self._path).run(**kw)
        return self._at.run(**kw)

    def __getattr__(self, name):
        return getattr(self._at, name)


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first dataframe element that has ``column`` (read-only tables carry no key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def spec(at: AppTest, key: str) -> dict:
    return json.loads(at.get_by_key(key).proto.spec)


def test_colours_page_histograms_distances_and_mean_images(monkeypatch, scanned_demo):
    at = ok(page(COLOURS, monkeypatch, scanned_demo).run())
    hist = spec(at, "colours.hist")
    names = {t["name"] for t in hist["data"]}
    assert names == {"wear", "incorrect", "not_wear"} and len(hist["data"]) == 9  # 3 groups x R, G, B
    heat = spec(at, "colours.distances")
    assert heat["data"][0]["type"] == "heatmap"
    at.selectbox(key="colours.by").set_value("gender")
    ok(at.run())
    assert {t["name"] for t in spec(at, "colours.hist")["data"]} == {"male", "female"}
    at.radio(key="colours.layout").set_value("small multiples")
    ok(at.run())
    assert {t["name"] for t in spec(at, "colours.hist")["data"]} == {"r", "g", "b"}
    # luminance and mean images after the one-off digest
    n_images = len(at.get("image"))
    at.button(key="colours.digest").click()
    ok(at.run())
    assert len(at.get("image")) >= n_images + 2  # one mean image per gender
    at.radio(key="colours.mode").set_value("luma")
    ok(at.run())
    assert {t["name"] for t in spec(at, "colours.hist")["data"]} == {"l"}
    assert table_with(at, "nearest")["group"].tolist() == ["female", "male"]


def test_quality_page_lists_unreadable_and_duplicates(monkeypatch, scanned_demo):
    truth = pd.read_csv(scanned_demo / "noise_truth.csv")
    broken = truth.loc[truth["kind"] == "unreadable", "image_id"].tolist()
    at = ok(page(QUALITY, monkeypatch, scanned_demo).run())
    assert at.error and "1 unreadable file" in at.error[0].value
    table = table_with(at, "error")
    assert table["image_id"].tolist() == broken and table["error"].iloc[0]
    counts = spec(at, "quality.counts")["data"][0]
    assert "unreadable" in list(counts["x"])
    groups = table_with(at, "labels_differ")
    dups = truth[truth["kind"] == "duplicate"]
    assert groups["labels_differ"].iloc[: len(dups)].all() and (groups["kind"].iloc[: len(dups)] == "exact").all()
    # raising a threshold fills the flagged gallery
    at.slider(key="quality.dark").set_value(255)
    ok(at.run())
    assert any("images 1-28 of 83" in c.value for c in at.caption)  # 7 a row: a person per row


def test_quality_page_relabels_a_duplicate(monkeypatch, scanned_demo):
    at = ok(page(QUALITY, monkeypatch, scanned_demo).run())
    copy = table_with(at, "labels_differ")["first_image"].iloc[0]  # the group shown first
    at.session_state["quality.dup_gallery.selection"] = [copy]
    ok(at.run())
    assert at.checkbox(key=f"quality.dup_gallery.pick.{copy}").value is True
    at.selectbox(key="quality.dup_actions.field").set_value("mask")
    ok(at.run())
    at.selectbox(key="quality.dup_actions.value.mask").set_value("not_wear")
    at.button(key="quality.dup_actions.relabel").click()
    ok(at.run())
    ev = open_review_store(scanned_demo / ".labelscope").events()
    assert ev[["image_id", "field", "new", "action"]].values.tolist()[-1] == [copy, "mask", "not_wear", "relabel"]


def test_faces_page_detects_then_shows_crops_and_charts(monkeypatch, scanned_demo):
    from labelscope import jobs

    ws = scanned_demo / ".labelscope"
    at = ok(page(FACES, monkeypatch, scanned_demo).run())
    assert at.info and "No face detection yet" in at.info[0].value
    at.button(key="faces.detect").click()  # a background job: YuNet from its wheel
    ok(at.run())
    assert jobs.wait(ws, "faces", timeout=180).state == "done", jobs.log_tail(jobs.read(ws, "faces"))
    ok(at.run())
    assert (ws / "faces.parquet").exists()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Unreadable"] == "1" and int(metrics["Images with a face"].replace(",", "")) > 0
    centres = spec(at, "faces.centres")
    assert centres["layout"]["shapes"][0]["type"] == "rect"  # the N % crop drawn over the centres
    assert spec(at, "faces.sizes")["data"]
    assert len(at.get("image")) > 0  # face crops cut from the thumbnails
    at.slider(key="faces.coverage").set_value(100)
    ok(at.run())
    per_group = table_with(at, "coverage")
    assert (per_group["coverage"] == 1.0).all()
    at.button(key="faces.export").click()
    ok(at.run())
    assert (ws / "exports" / "face_boxes.csv").exists() and (ws / "exports" / "face_boxes.parquet").exists()
    at.radio(key="faces.check").set_value("several faces")
    ok(at.run())


def test_face_centre_sample_keeps_every_group_and_its_columns():
    from labelscope.ui.eda_charts import sample_per_group

    rel = pd.DataFrame({"group": ["a"] * 9000 + ["b"] * 990 + ["c"] * 10, "cx": 0.5, "cy": 0.5})
    shown = sample_per_group(rel, 1000)
    assert list(shown.columns) == ["group", "cx", "cy"] and 990 <= len(shown) <= 1010
    counts = shown["group"].value_counts()
    assert counts["a"] == 900 and counts["b"] == 99 and counts["c"] >= 1
    assert sample_per_group(rel.iloc[:50], 1000).equals(rel.iloc[:50])
