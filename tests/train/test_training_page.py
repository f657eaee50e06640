"""AppTest of pages/6_Training.py on a workspace holding one tiny run, and on an empty one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP, PAGE = str(REPO / "app.py"), str(REPO / "pages" / "6_Training.py")


def open_page():
    """Start at app.py, then switch: the sidebar's page links resolve only against the entry point."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page(PAGE).run()


@pytest.fixture
def page_env(monkeypatch):
    import streamlit as st

    def use(dataset: Path, ws: Path):
        monkeypatch.setenv("LABELSCOPE_DATASET", str(dataset))
        monkeypatch.setenv("LABELSCOPE_WORKSPACE", str(ws))
        st.cache_resource.clear()  # the frame caches Settings per process
        st.cache_data.clear()

    yield use
    st.cache_resource.clear()
    st.cache_data.clear()


def test_training_page_shows_runs_metrics_curves_and_confusion(tiny_mask, tiny_run, page_env):
    root, _, _ = tiny_mask
    result, ws, _ = tiny_run
    page_env(root, ws)
    at = open_page()
    assert not at.exception
    assert at.dataframe[0].value["run"].tolist() == [result.out.name]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Out-of-fold macro-F1"] == f"{result.metrics['oof']['macro_f1']:.3f}"
    assert labels["Images predicted"] == "54" and "Gender F1" in labels
    spec = json.loads(at.get_by_key("training.confusion").proto.spec)
    heat = spec["data"][0]
    assert heat["type"] == "heatmap" and len(heat["y"]) == 18
    curves = json.loads(at.get_by_key("training.curves").proto.spec)
    assert {t["name"] for t in curves["data"]} == {"fold 0", "fold 1"}
    at.toggle(key="training.normalise").set_value(False).run()
    assert not at.exception


def test_training_page_without_runs_says_how_to_make_one(tiny_mask, tmp_path, page_env):
    root, _, _ = tiny_mask
    page_env(root, tmp_path / "empty_ws")
    at = open_page()
    assert not at.exception
    assert "No training run" in at.info[0].value and "labelscope train" in at.code[0].value
