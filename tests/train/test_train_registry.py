"""Imported runs: import, list, load (and no torch on the app's import path)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from labelscope.train import registry, report
from labelscope.workspace import Workspace


def test_train_with_workspace_imports_the_run(tiny_run):
    result, ws, logs = tiny_run
    dest = Workspace(ws).predictions / result.out.name
    assert {p.name for p in dest.iterdir()} == set(registry.RUN_FILES)
    assert any("predictions imported into" in line for line in logs)
    runs = registry.list_runs(ws)
    assert runs["run"].tolist() == [result.out.name] and runs["predicted"].iloc[0] == 54
    assert runs["macro_f1"].iloc[0] == pytest.approx(result.metrics["oof"]["macro_f1"])


def test_latest_run_by_default_and_by_name(tiny_run, tmp_path):
    result, ws, _ = tiny_run
    ws2 = tmp_path / "ws"
    registry.import_predictions(result.out, ws2, name="older")
    m = json.loads((result.out / "metrics.json").read_text())
    m["finished"] = "2999-01-01T00:00:00+00:00"
    (tmp_path / "newer").mkdir()
    for f in registry.RUN_FILES:
        (tmp_path / "newer" / f).write_bytes((result.out / f).read_bytes())
    (tmp_path / "newer" / "metrics.json").write_text(json.dumps(m))
    registry.import_predictions(tmp_path / "newer", ws2, name="new run/2")
    assert registry.list_runs(ws2)["run"].tolist() == ["new-run-2", "older"]
    assert registry.load_predictions(ws2).attrs["path"].endswith("new-run-2")
    df = registry.load_predictions(ws2, "older")
    assert len(df) == 54 and registry.pred_probs_matrix(df).shape == (54, 18)
    with pytest.raises(FileNotFoundError, match="no run named 'nope'"):
        registry.load_predictions(ws2, "nope")


def test_empty_workspace_and_bad_run_dir(tmp_path):
    assert registry.list_runs(tmp_path / "ws").empty
    with pytest.raises(FileNotFoundError, match="no training run imported yet"):
        registry.load_predictions(tmp_path / "ws")
    with pytest.raises(FileNotFoundError, match="no predictions.parquet"):
        registry.import_predictions(tmp_path, tmp_path / "ws")


def test_report_tables(tiny_run):
    result, ws, _ = tiny_run
    m = registry.load_metrics(ws)
    long = report.history_long(m)
    assert set(long["metric"]) == set(report.CURVE_METRICS.values()) and len(long) == 2 * 4
    cm = registry.load_confusion(ws)
    share = report.normalise_rows(cm)
    rows = cm.sum(axis=1) > 0
    assert np.allclose(share[rows].sum(axis=1), 1) and (share[~rows].to_numpy() == 0).all()
    assert report.headline(m)["predicted"] == 54 and len(report.per_class_f1(m)) == 18


def test_app_side_modules_do_not_import_torch():
    code = ("import sys; import labelscope.train.registry, labelscope.train.report, labelscope.commands.train, "
            "labelscope.commands.predictions; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
