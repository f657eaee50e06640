"""AppTest of the Embeddings page: compute behind a button, the WebGL map, selection -> gallery -> relabel."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, start_app_test
from labelscope.review import open_review_store
from labelscope.workspace import Workspace, write_parquet

EMBEDDINGS = str(REPO / "pages" / "4_Embeddings.py")


@pytest.fixture
def demo(demo_dataset: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "demo"
    shutil.copytree(demo_dataset, dst, ignore=shutil.ignore_patterns(".labelscope"))
    return dst


@pytest.fixture
def embedded(demo: Path) -> Path:
    """The demo copy with a scan and the pixels embedding cached (what `labelscope embed` leaves)."""
    from labelscope.embed import compute_embeddings

    compute_embeddings(demo, None, "pixels")
    return demo


def page(monkeypatch, dataset: Path, *, reviewer: str = "ana") -> AppTest:
    at = start_app_test(EMBEDDINGS, monkeypatch, dataset, reviewer=reviewer, timeout=120)
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def chart(at: AppTest) -> dict:
    return json.loads(at.get_by_key("emb").proto.spec)


def point_ids(spec: dict) -> list[str]:
    return [c[0] for t in spec["data"] for c in t.get("customdata", [])]


def test_fresh_workspace_computes_in_a_background_job(monkeypatch, demo):
    from labelscope import jobs

    ws = Workspace(demo / ".labelscope")
    at = ok(page(monkeypatch, demo).run())
    assert any("No embeddings yet" in i.value for i in at.info)
    assert not (ws.embeddings / "pixels.npz").exists()  # nothing on a rerun
    at.selectbox(key="emb.compute.name").set_value("pixels")
    at.button(key="emb.compute.go").click()
    ok(at.run())
    state = jobs.read(ws.root, "embed")
    assert state is not None and state.argv[0] == "embed" and state.argv[-2:] == ["--embedder", "pixels"]
    assert at.button(key="emb.compute.go").disabled or not state.active  # one embed job at a time
    assert jobs.wait(ws.root, "embed", timeout=180).state == "done", jobs.log_tail(state)
    ok(at.run())
    assert (ws.embeddings / "pixels.npz").exists()
    spec = chart(at)
    assert all(t["type"] == "scattergl" for t in spec["data"])
    assert len(point_ids(spec)) == 83  # 84 demo images, the unreadable one left out
    assert any("1 unreadable images not shown" in c.value for c in at.caption)
    assert any("Embeddings: finished" in c.value for c in at.caption)


def test_a_map_right_after_a_scan_then_better_embeddings_replace_it(monkeypatch, demo):
    from labelscope.embed import compute_embeddings
    from labelscope.scan import scan_dataset

    scan_dataset(demo, None, workers=1)
    ws = Workspace(demo / ".labelscope")
    at = ok(page(monkeypatch, demo).run())  # no button pressed
    assert (ws.embeddings / "colour.npz").exists() and at.multiselect(key="emb.names").value == ["colour"]
    assert len(point_ids(chart(at))) == 83
    assert any("colour (96-d)" in c.value for c in at.caption)
    compute_embeddings(demo, None, "effnet")  # what a finished embed job leaves
    ok(at.run())
    assert at.multiselect(key="emb.names").value == ["effnet"]
    assert any("effnet (1280-d)" in c.value for c in at.caption)
    at.multiselect(key="emb.names").set_value(["colour"])  # a reviewer's own choice stays
    ok(at.run())
    assert at.multiselect(key="emb.names").value == ["colour"]


def test_map_colours_by_attribute_review_state_and_suspect_score(monkeypatch, embedded):
    at = ok(page(monkeypatch, embedded).run())
    assert at.multiselect(key="emb.names").value == ["pixels"]
    assert {t["name"] for t in chart(at)["data"]} == {"wear", "incorrect", "not_wear"}  # default: mask
    assert "suspect score" not in at.selectbox(key="emb.colour").options  # no suspects table yet
    at.selectbox(key="emb.colour").set_value("review state")
    ok(at.run())
    assert [t["name"] for t in chart(at)["data"]] == ["no decision"]

    ids = point_ids(chart(at))
    write_parquet(pd.DataFrame({"image_id": ids[:5] + [""], "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.0],
                                "issue": ["label"] * 5 + ["person"]}), Workspace(embedded / ".labelscope").suspects)
    at = ok(page(monkeypatch, embedded).run())
    at.selectbox(key="emb.colour").set_value("suspect score")
    ok(at.run())
    traces = {t["name"]: t for t in chart(at)["data"]}
    assert len(traces["no finding"]["customdata"]) == 78 and len(traces["suspect score"]["customdata"]) == 5


def test_tsne_map_is_computed_only_behind_its_button(monkeypatch, embedded):
    at = ok(page(monkeypatch, embedded).run())
    at.radio(key="emb.method").set_value("tsne")
    ok(at.run())
    assert any("No TSNE map" in i.value for i in at.info)
    assert not [e for e in at.get("plotly_chart")]
    at.button(key="emb.project.go").click()
    ok(at.run())
    assert len(point_ids(chart(at))) == 83
    at = ok(page(monkeypatch, embedded).run())  # a new session reads the cached map: no button
    at.radio(key="emb.method").set_value("tsne")
    ok(at.run())
    assert len(point_ids(chart(at))) == 83 and not at.info


def test_selection_fills_the_gallery_and_a_relabel_reaches_the_review_store(monkeypatch, embedded):
    at = ok(page(monkeypatch, embedded).run())
    assert any(m.value == "**0 images in the map selection**" for m in at.markdown)
    ids = point_ids(chart(at))
    chosen = [i for i in ids if i.endswith("mask1.jpg")][:3]
    at.session_state["emb.map"] = chosen  # what the chart's on_select callback writes
    ok(at.run())
    assert any(m.value.startswith("**3 images in the map selection**") for m in at.markdown)
    assert len(at.get("image")) == 3
    for i in chosen:  # shown, never pre-ticked
        assert at.checkbox(key=f"emb.gallery.pick.{i}").value is False
    assert any(m.value == "**0 of 3 image(s) selected on the Embeddings page**" for m in at.markdown)
    assert at.button(key="emb.actions.relabel").disabled
    at.button(key="emb.gallery.select_all").click()  # explicit
    ok(at.run())
    assert any(m.value == "**3 of 3 image(s) selected on the Embeddings page**" for m in at.markdown)
    at.selectbox(key="emb.actions.field").set_value("mask")
    ok(at.run())
    at.selectbox(key="emb.actions.value.mask").set_value("not_wear")
    at.button(key="emb.actions.relabel").click()
    ok(at.run())
    assert not open_review_store(embedded / ".labelscope").events().shape[0]  # more than one image: asked first
    assert any("Really set mask to not_wear on 3 images (selected on the Embeddings page)?" in w.value
               for w in at.warning)
    at.button(key="emb.actions.yes").click()
    ok(at.run())
    ev = open_review_store(embedded / ".labelscope").events()
    assert sorted(ev["image_id"]) == sorted(chosen)
    assert set(ev["action"]) == {"relabel"} and set(ev["new"]) == {"not_wear"} and set(ev["old"]) == {"wear"}
    assert "3 event(s) on 3 image(s) recorded as ana" in at.success[0].value
    at.selectbox(key="emb.colour").set_value("review state")
    ok(at.run())
    traces = {t["name"]: t for t in chart(at)["data"]}
    assert sorted(c[0] for c in traces["changed"]["customdata"]) == sorted(chosen)
