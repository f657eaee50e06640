"""The Training page starts a run as a background job, shows its progress while it trains,
lists the run when it ends (imported into the workspace), and cancels a run; the training
module writes every epoch's metrics as it ends."""
from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from labelscope import jobs
from labelscope.train.outputs import read_epochs

REPO = Path(__file__).resolve().parents[2]
APP, PAGE = str(REPO / "app.py"), str(REPO / "pages" / "6_Training.py")


def ok(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_epochs_are_written_as_they_end(tiny_run):
    result, _, _ = tiny_run
    epochs = read_epochs(result.out)
    assert epochs[["fold", "epoch"]].values.tolist() == [[0, 1], [1, 1]]
    assert epochs["train_loss"].gt(0).all() and epochs["val_macro_f1"].between(0, 1).all()
    assert epochs.to_dict("records") == json.loads(json.dumps(result.history, default=float))


def test_training_page_starts_watches_lists_and_cancels_a_run(tiny_mask, tmp_path, monkeypatch):
    import streamlit as st

    root, _, _ = tiny_mask
    ws = tmp_path / "ws"
    monkeypatch.setenv("LABELSCOPE_DATASET", str(root))
    monkeypatch.setenv("LABELSCOPE_WORKSPACE", str(ws))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = ok(AppTest.from_file(APP, default_timeout=60).run())
    at = ok(at.switch_page(PAGE).run())
    assert "No training run" in at.info[0].value
    assert at.selectbox(key="training.start.model").value == "effnet"  # the command's default backbone
    assert at.number_input(key="training.start.head_epochs").value == 30
    at.selectbox(key="training.start.model").set_value("small")
    ok(at.run())
    at.number_input(key="training.start.img_size").set_value(32)
    at.number_input(key="training.start.epochs").set_value(1)
    at.number_input(key="training.start.folds").set_value(2)
    at.button(key="training.start.go").click()
    ok(at.run())
    seen = [p.proto.text for p in at.get("progress")]
    try:
        assert any("Training" in t for t in seen), seen
        state = jobs.read(ws, "train")
        assert state.argv[:1] == ["train"] and state.info["run"]
        assert " ".join(state.argv).endswith("--epochs 1 --head-epochs 0") and "--model small" in " ".join(state.argv)
        while (state := jobs.read(ws, "train")).active:
            ok(at.run())
            seen += [p.proto.text for p in at.get("progress")]
            time.sleep(0.3)
        assert state.state == "done", jobs.log_tail(state)
        assert (state.stage, state.done, state.total, state.unit) == ("train", 2, 2, "epochs")
        assert any("epochs" in t for t in seen), seen  # the block showed training progress in epochs
        ok(at.run())
        listed = at.dataframe[0].value
        assert listed["run"].tolist() == [state.info["run"]]  # imported into the workspace
        assert (ws / "predictions" / state.info["run"] / "predictions.parquet").is_file()
        assert len(read_epochs(state.info["run_dir"])) == 2
        assert jobs.read(ws, "suspects") is None  # no suspects yet: nothing to re-rank

        at.number_input(key="training.start.epochs").set_value(50)
        at.button(key="training.start.go").click()
        ok(at.run())
        assert jobs.read(ws, "train").active
        at.button(key="jobs.train.cancel").click()
        ok(at.run())
        assert jobs.read(ws, "train").state == "cancelled"
        ok(at.run())
        assert any("Training cancelled" in w.value for w in at.warning)
    finally:
        jobs.cancel(ws, "train", timeout=2)
