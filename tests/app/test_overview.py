"""AppTest of the home page (Overview): counts, class balance, scan button, problems table."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from conftest import REPO

APP = str(REPO / "app.py")


def run_app(monkeypatch, dataset: Path) -> AppTest:
    monkeypatch.setenv("LABELSCOPE_DATASET", str(dataset))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_counts_and_balance_before_scan(monkeypatch, demo_copy: Path):
    at = run_app(monkeypatch, demo_copy)
    m = metrics(at)
    assert m["Images"] == "84" and m["People"] == "12" and m["Classes"] != "0"
    # one bar chart per attribute: mask, gender, age group, the 18 classes
    keys = {c.proto.id for c in at.get("plotly_chart")}
    assert len(keys) >= 4
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert list(spec["data"][0]["x"]) == ["wear", "incorrect", "not_wear"]
    assert at.button(key="overview.scan") is not None


def test_overview_scan_button_scans_and_lists_unreadable(monkeypatch, demo_copy: Path):
    at = run_app(monkeypatch, demo_copy)
    at.button(key="overview.scan").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    assert (demo_copy / ".labelscope" / "features.parquet").exists()
    assert "1 unreadable image" in at.warning[0].value
    unreadable = next(d.value for d in at.dataframe if "error" in d.value.columns)
    assert len(unreadable) == 1  # the demo's one injected unreadable file
    assert "error" in unreadable.columns and unreadable["error"].iloc[0]


def test_overview_unusable_dataset_shows_errors(monkeypatch, tmp_path: Path):
    (tmp_path / "bad.csv").write_text("file,class\nx.jpg,cat\n")
    at = run_app(monkeypatch, tmp_path / "bad.csv")
    assert at.error and "cannot be used" in at.error[0].value
    assert "missing_columns" in at.dataframe[0].value["code"].tolist()


def test_navigation_lists_every_page_once():
    from labelscope.ui.frame import NAVIGATION

    listed = [path for path, _, _ in NAVIGATION]
    on_disk = ["app.py"] + sorted(f"pages/{p.name}" for p in (REPO / "pages").glob("*.py"))
    assert sorted(listed) == sorted(on_disk) and len(set(listed)) == len(listed)
    assert [label for _, label, _ in NAVIGATION][0] == "Overview"


def test_overview_shows_where_the_dataset_is_sick(monkeypatch, demo_copy: Path):
    import pandas as pd

    from labelscope.eda.summary import suspect_counts
    from labelscope.workspace import Workspace, write_parquet

    table = pd.DataFrame({"issue": ["person", "person", "duplicate"], "field": ["gender", "gender", ""],
                          "image_id": ["", "", "images/x.jpg"], "score": [0.1, 0.2, 0.0]})
    assert suspect_counts(table).values.tolist() == [["person", "gender", 2], ["duplicate", "", 1]]
    write_parquet(table, Workspace(demo_copy / ".labelscope").ensure().suspects)
    at = run_app(monkeypatch, demo_copy)
    assert {m.label: m.value for m in at.metric}["person · gender"] == "2"
