"""The one ``faces.parquet`` reader: one shape for every caller, clear errors, and the Queue's face crop."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from labelscope.embed.face import face_boxes as embed_boxes
from labelscope.faces import FaceBox, face_boxes, load_faces
from labelscope.faces.stage import BEST_COLUMNS
from labelscope.queue.cards import face_boxes as queue_boxes, face_crop
from labelscope.train.labels import LabelsError, read_face_boxes
from labelscope.workspace import Workspace


def write_faces(ws: Workspace) -> None:
    ws.root.mkdir(parents=True, exist_ok=True)
    nan = float("nan")
    pd.DataFrame({
        "image_id": ["a.jpg", "b.jpg", "c.jpg"], "x1": [100.0, 5.0, nan], "y1": [150.0, 5.0, nan],
        "x2": [300.0, 9.0, nan], "y2": [300.0, 9.0, nan], "score": [0.99, 0.7, nan], "n_faces": [1, 2, 0],
        "landmarks": [[], [], []], "width": [400, 40, 50], "height": [600, 60, 50], "error": ["", "", ""],
        "file_size": [1, 1, 1], "mtime_ns": [1, 1, 1], "detector": ["yunet"] * 3,
    }).to_parquet(ws.faces)


def test_every_caller_gets_the_same_boxes_in_one_shape(tmp_path):
    ws = Workspace(tmp_path / "ws")
    write_faces(ws)
    table = load_faces(ws)
    assert list(table.columns) == BEST_COLUMNS and len(table) == 3
    boxes = face_boxes(table)
    assert boxes == {"a.jpg": FaceBox(100.0, 150.0, 300.0, 300.0, 400.0, 600.0),
                     "b.jpg": FaceBox(5.0, 5.0, 9.0, 9.0, 40.0, 60.0)}  # c.jpg: no face
    assert embed_boxes(ws) == boxes == queue_boxes(ws) == read_face_boxes(ws.faces)
    assert load_faces(ws.faces).equals(table) and load_faces(ws.root).equals(table)  # file, folder, Workspace


def test_missing_and_foreign_tables_are_said_clearly(tmp_path):
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(FileNotFoundError, match="run `labelscope faces`"):
        load_faces(ws)
    empty = load_faces(ws, missing_ok=True)
    assert list(empty.columns) == BEST_COLUMNS and face_boxes(empty) == {} and queue_boxes(ws) == {}
    ws.root.mkdir(parents=True)
    pd.DataFrame({"image_id": ["a"], "left": [1.0]}).to_parquet(ws.faces)
    with pytest.raises(ValueError, match=r"faces\.parquet: a faces table needs columns .* lacks x1, y1, x2, y2"):
        queue_boxes(ws)  # never swallowed into "no faces"
    with pytest.raises(LabelsError, match="lacks x1"):
        read_face_boxes(ws.faces)


def test_a_foreign_table_gets_the_missing_columns_and_keeps_the_best_row(tmp_path):
    path = tmp_path / "boxes.parquet"
    pd.DataFrame({"image_id": ["a", "a"], "x1": [0, 10], "y1": [0, 10], "x2": [5, 50], "y2": [5, 50],
                  "score": [0.2, 0.9]}).to_parquet(path)
    t = load_faces(path)
    assert set(BEST_COLUMNS) <= set(t.columns)
    assert face_boxes(t) == {"a": FaceBox(10.0, 10.0, 50.0, 50.0, 0.0, 0.0)}


def test_queue_face_crop_is_drawn_from_the_reader_boxes(tmp_path):
    arr = np.full((600, 400, 3), 30, np.uint8)
    arr[150:300, 100:300] = (250, 20, 20)  # the "face"
    Image.fromarray(arr).save(tmp_path / "a.jpg", quality=95)
    ws = Workspace(tmp_path / "ws")
    write_faces(ws)
    box = queue_boxes(ws)["a.jpg"]
    data = face_crop(tmp_path / "a.jpg", box, margin=0.0)  # a 6-field FaceBox, as the Queue passes it
    assert data is not None
    crop = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    assert crop.shape[:2] == (144, 192)  # 200x150 face scaled into 192 px
    assert crop[..., 0].mean() > 200 and crop[..., 1].mean() < 60
    assert face_crop(tmp_path / "missing.jpg", box) is None  # an unreadable file: no crop, no crash
    with pytest.raises(ValueError):
        face_crop(tmp_path / "a.jpg", (1.0, 2.0))  # a malformed box is a bug: raised, not hidden
