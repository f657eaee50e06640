"""AppTest: the Queue page; accepting a suggestion writes a relabel event and the export shows it."""
from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from labelscope.dataset import load_dataset
from labelscope.issues import issue_frame, rank_suspects, save_suspects
from labelscope.issues.find import as_suspects
from labelscope.review import export_labels, open_review_store
from labelscope.scan import scan_dataset

APP = str(REPO / "app.py")
PAGE = str(REPO / "pages" / "9_Queue.py")


@pytest.fixture
def queue_app(folder_dataset, tmp_path, monkeypatch):
    import streamlit as st

    ws = tmp_path / "ws"
    scan_dataset(folder_dataset, ws, workers=1)
    label_rows = issue_frame("label", {
        "image_id": ["cat/0.jpg", "dog/3.jpg"], "is_label_issue": [True, True], "label_score": [0.05, 0.2],
        "field": "label", "given": ["cat", "dog"], "suggested": ["dog", "cat"], "confidence": [0.9, 0.7],
        "detail": ["model and neighbours say dog", "model and neighbours say cat"]})
    save_suspects(rank_suspects([as_suspects("label", label_rows)]), ws)
    monkeypatch.setenv("LABELSCOPE_DATASET", str(folder_dataset))
    monkeypatch.setenv("LABELSCOPE_WORKSPACE", str(ws))
    monkeypatch.delenv("LABELSCOPE_DB_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["reviewer"] = "ana"
    at.run()
    return at.switch_page(PAGE), folder_dataset, ws


def test_accepting_a_suggestion_writes_a_relabel_and_the_export_shows_it(queue_app, tmp_path):
    at, dataset, ws = queue_app
    at.run()
    assert not at.exception
    assert "cat/0.jpg" in at.subheader[0].value.replace("\\", "")
    assert any("Reviewed 0 / 2" in p.proto.text for p in at.get("progress"))
    at.button(key="queue.accept").click().run()
    assert not at.exception
    events = open_review_store(ws).events()
    last = events.iloc[-1]
    assert (last["action"], last["image_id"], last["field"], last["old"], last["new"]) == \
        ("relabel", "cat/0.jpg", "label", "cat", "dog")
    assert at.session_state["queue.position"] == 1          # the queue moved on
    assert "dog/3.jpg" in at.subheader[0].value.replace("\\", "")
    result = export_labels(load_dataset(dataset), open_review_store(ws), tmp_path / "export")
    labels = pd.read_csv(result.files["labels.csv"]).set_index("image_id")
    assert labels.at["cat/0.jpg", "label"] == "dog" and bool(labels.at["cat/0.jpg", "changed"])


def test_skip_keep_and_progress(queue_app):
    at, _, ws = queue_app
    at.run()
    at.button(key="queue.skip").click().run()
    assert at.session_state["queue.position"] == 1 and not open_review_store(ws).events().shape[0]
    at.button(key="queue.keep").click().run()
    assert open_review_store(ws).events().iloc[-1]["action"] == "confirm"
    assert any("Reviewed 1 / 2" in p.proto.text for p in at.get("progress"))
