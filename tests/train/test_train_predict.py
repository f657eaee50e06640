"""labelscope predict: the competition's submission format, --score, unreadable images, class check."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from labelscope.cli import main
from labelscope.train.metrics import accuracy, macro_f1


def _eval_folder(root, tmp_path):
    ev = tmp_path / "eval"
    (ev / "images").mkdir(parents=True)
    src = sorted((root / "images").rglob("*.jpg"))[:9]
    ids = []
    for k, p in enumerate(src):
        shutil.copy(p, ev / "images" / f"{k:04x}.jpg")
        ids.append(f"{k:04x}.jpg")
    (ev / "images" / "broken.jpg").write_bytes(b"not a jpeg")
    ids.append("broken.jpg")
    pd.DataFrame({"ImageID": ids, "ans": 0}).to_csv(ev / "info.csv", index=False)
    rng = np.random.default_rng(1)
    truth = pd.DataFrame({"ImageID": ids, "ans": rng.integers(0, 18, len(ids))})
    truth.to_csv(tmp_path / "truth.csv", index=False)
    return ev, truth


def test_predict_writes_the_submission_and_score_agrees_with_a_direct_computation(tiny_mask, tiny_run, tmp_path,
                                                                                 capsys):
    root, _, _ = tiny_mask
    result, _, _ = tiny_run
    ev, truth = _eval_folder(root, tmp_path)
    out = tmp_path / "submission.csv"
    assert main(["predict", str(result.out), str(ev), "--out", str(out), "--tta", "--score",
                 str(tmp_path / "truth.csv")]) == 0
    cap = capsys.readouterr()
    sub = pd.read_csv(out)
    assert list(sub.columns) == ["ImageID", "ans"]
    assert sub["ImageID"].tolist() == pd.read_csv(ev / "info.csv")["ImageID"].tolist()   # every row, in order
    assert sub["ans"].between(0, 17).all() and sub["ans"].dtype.kind == "i"
    assert "broken.jpg" in cap.err and "fallback" in cap.err
    y, p = truth["ans"].to_numpy(), sub["ans"].to_numpy()
    assert f"macro-F1 {macro_f1(y, p, 18):.4f}, accuracy {accuracy(y, p):.4f}" in cap.out


def test_a_run_from_another_datasets_classes_is_refused_with_what_differs(tiny_run, tmp_path, capsys):
    from labelscope.train.predict import check_competition_classes

    with pytest.raises(ValueError, match="missing wear_male_<30.*not in the competition: cat, dog"):
        check_competition_classes(["cat", "dog"], "runs/pets")
    check_competition_classes(list(tiny_run[0].metrics["classes"]), "ok")


def test_the_demo_writes_a_competition_eval_set_that_predict_can_submit_for(tiny_run, tmp_path, capsys):
    result, _, _ = tiny_run
    out = tmp_path / "demo"
    assert main(["demo", str(out), "--people", "3", "--eval-people", "2", "--workers", "1"]) == 0
    info = pd.read_csv(out / "eval" / "info.csv", dtype=str)
    truth = pd.read_csv(out / "eval_truth.csv", dtype={"ImageID": str})
    assert list(info.columns) == ["ImageID", "ans"] and len(info) == 14 and set(info["ans"]) == {"0"}
    assert sorted(p.name for p in (out / "eval" / "images").iterdir()) == sorted(info["ImageID"])
    assert truth["ImageID"].tolist() == info["ImageID"].tolist() and truth["ans"].between(0, 17).all()
    assert not (out / "eval" / "_drawing").exists()
    capsys.readouterr()
    sub = tmp_path / "s.csv"
    assert main(["predict", str(result.out), str(out / "eval"), "--out", str(sub), "--score",
                 str(out / "eval_truth.csv")]) == 0
    assert "macro-F1" in capsys.readouterr().out and len(pd.read_csv(sub)) == 14
