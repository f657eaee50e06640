"""The tables behind the Embeddings page, and the ``labelscope embed`` command."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelscope.cli import main
from labelscope.embed import load_embeddings
from labelscope.embed.view import (REVIEW_STATE, SUSPECT_SCORE, category_order, colour_options, review_state,
                                   scatter_frame, selection_rows, suspect_scores)
from labelscope.workspace import Workspace, write_parquet

LABELS = pd.DataFrame({
    "image_id": ["a", "b", "c", "d"], "label": ["x", "y", "x", "x"], "mask": ["wear", "wear", "not_wear", "wear"],
    "flagged": [True, False, False, True], "excluded": [False, False, False, True],
    "changed": [False, True, False, False], "confirmed": [False, False, True, False],
})
XY = pd.DataFrame({"image_id": ["d", "c", "gone", "a"], "x": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 0.0, 0.0, 1.0]})


def test_scatter_frame_keeps_the_map_order_and_drops_unknown_ids():
    df = scatter_frame(XY, LABELS, "mask")
    assert df["image_id"].tolist() == ["d", "c", "a"]
    assert df["colour"].tolist() == ["wear", "not_wear", "wear"] and df["label"].tolist() == ["x", "x", "x"]
    assert df["x"].tolist() == [1.0, 2.0, 4.0]
    with pytest.raises(ValueError, match="cannot colour by 'nope'"):
        scatter_frame(XY, LABELS, "nope")


def test_review_state_priority():
    assert review_state(LABELS).tolist() == ["flagged", "changed", "confirmed", "excluded"]
    assert scatter_frame(XY, LABELS, REVIEW_STATE)["colour"].tolist() == ["excluded", "confirmed", "flagged"]
    assert review_state(LABELS[["image_id", "label"]]).tolist() == ["no decision"] * 4


def test_suspect_scores_take_each_images_lowest_and_tolerate_absence(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert suspect_scores(ws) is None
    write_parquet(pd.DataFrame({"image_id": ["a", "a", "c", ""], "score": [0.4, 0.1, 0.9, 0.0]}), ws.suspects)
    s = suspect_scores(ws)
    assert s.to_dict() == {"a": 0.1, "c": 0.9}
    df = scatter_frame(XY, LABELS, SUSPECT_SCORE, scores=s)
    assert np.isnan(df["colour"].iloc[0]) and df["colour"].tolist()[1:] == [0.9, 0.1]
    write_parquet(pd.DataFrame({"image_id": ["a"]}), ws.suspects)  # another shape: treated as absent
    assert suspect_scores(ws) is None
    assert colour_options(["mask"], has_suspects=False) == ["mask", REVIEW_STATE]


def test_selection_rows_and_category_order():
    assert selection_rows(LABELS, ["c", "zz", "a", "c"])["image_id"].tolist() == ["c", "a"]
    assert category_order(pd.Series(["b", "a", "a", "c", "b", "a"])) == ["a", "b", "c"]


def test_embed_command_computes_projects_and_reports(mask_dataset, tmp_path, capsys):
    ws = tmp_path / "ws"
    assert main(["embed", str(mask_dataset), "--workspace", str(ws), "--embedder", "pixels",
                 "--embedder", "colour", "--project", "pca", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["embedder"]: r for r in out["embeddings"]}
    assert rows["pixels"]["images"] == 21 and rows["pixels"]["embedded"] == 21 and rows["colour"]["dim"] == 96
    assert len(list((Workspace(ws).embeddings / "projections").glob("*.parquet"))) == 2
    assert main(["embed", str(mask_dataset), "--workspace", str(ws), "--embedder", "colour", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["embeddings"][0]
    assert again["embedded"] == 0  # cached: nothing recomputed
    assert load_embeddings(ws, "colour").dim == 96


def test_embed_command_lists_and_refuses_clearly(mask_dataset, tmp_path, capsys):
    assert main(["embed", str(mask_dataset), "--workspace", str(tmp_path / "ws"), "--list", "--json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(listed) >= {"pixels", "colour", "effnet", "face", "torchvision", "model"}
    assert listed["model"]["available"] is False and "training run" in listed["model"]["reason"]
    assert main(["embed", str(mask_dataset), "--workspace", str(tmp_path / "ws"), "--embedder", "model"]) == 1
    assert "model: no training run" in capsys.readouterr().err
    assert main(["embed", str(mask_dataset), "--embedder", "nope"]) == 1
    assert "unknown embedder(s) nope" in capsys.readouterr().err
