"""The commands end to end on the demo: export -> train -> predictions import / list."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from labelscope.cli import main
from labelscope.train.registry import pred_probs_matrix, read_predictions


def test_export_then_train_small_writes_predictions_and_imports_them(demo_dataset, tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["export", str(demo_dataset), "--workspace", str(ws), "--out", str(tmp_path / "export")]) == 0
    labels = pd.read_csv(tmp_path / "export" / "labels.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(demo_dataset / "noise_truth.csv", dtype=str, keep_default_na=False)
    unreadable = set(truth.loc[truth["kind"] == "unreadable", "image_id"])
    run = tmp_path / "run"
    code = main(["train", str(tmp_path / "export" / "labels.csv"), "--dataset", str(demo_dataset), "--out", str(run),
                 "--model", "small", "--img-size", "64", "--folds", "2", "--epochs", "1", "--workspace", str(ws),
                 "--no-progress"])
    assert code == 0
    err = capsys.readouterr().err
    assert "small: training from scratch" in err and "out-of-fold macro-F1" in err
    pred = read_predictions(run)
    kept = labels.loc[labels["excluded"] == "0", "image_id"]
    assert sorted(pred["image_id"]) == sorted(set(kept) - unreadable)  # the demo's unreadable file is skipped
    assert np.allclose(pred_probs_matrix(pred).sum(1), 1, atol=1e-5)
    assert json.loads((run / "metrics.json").read_text())["skipped"] == sorted(unreadable)

    assert main(["predictions", "import", str(run), "--workspace", str(tmp_path / "ws2"), "--name", "again"]) == 0
    capsys.readouterr()
    assert main(["predictions", "list", "--workspace", str(tmp_path / "ws2"), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in listed] == ["again"] and listed[0]["predicted"] == len(pred)
    assert main(["predictions", "list", "--workspace", str(ws), "--json"]) == 0
    assert [r["run"] for r in json.loads(capsys.readouterr().out)] == ["run"]


def test_train_reports_bad_input_as_an_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "labels.csv").write_text("image_id,path\na.jpg,a.jpg\n")
    code = main(["train", str(tmp_path / "labels.csv"), "--dataset", str(tmp_path), "--out", str(tmp_path / "r")])
    assert code == 1 and "missing column(s) label" in capsys.readouterr().err
    assert main(["predictions", "import", str(tmp_path), "--workspace", str(tmp_path / "ws")]) == 1
