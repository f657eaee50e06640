"""LabelsDataset, collate, make_loader, crops and transforms."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from labelscope.dataset.mask import CLASS_NAMES
from labelscope.train.data import (LabelsDataset, UnreadableImageWarning, crop_image, face_crop_box, make_loader,
                                   reduced_loader)
from labelscope.train.labels import LabelsError, read_face_boxes, read_labels
from labelscope.train.transforms import build_transforms


def test_samples_classes_and_excluded_rows(tiny_mask):
    root, labels, df = tiny_mask
    ds = LabelsDataset(labels, root)
    kept = df[df["excluded"] == 0]
    assert len(ds) == len(kept) == len(df) - 2
    assert ds.classes == list(CLASS_NAMES) and ds.class_to_idx["wear_male_<30"] == 0
    assert ds.samples[0] == (str((root / kept["path"].iloc[0]).resolve()), int(kept["class_index"].iloc[0]))
    assert ds.targets == kept["class_index"].astype(int).tolist()
    assert ds.excluded == 2 and ds.layout == "mask"


def test_excluded_images_never_reach_the_loader(tiny_mask):
    root, labels, df = tiny_mask
    ds = LabelsDataset(labels, root, transform=build_transforms(32, train=True))
    seen = [i for b in make_loader(ds, batch_size=8, shuffle=True) for i in b["image_id"]]
    excluded = set(df.loc[df["excluded"] == 1, "image_id"])
    assert len(excluded) == 2 and not excluded & set(seen)
    assert sorted(seen) == sorted(df.loc[df["excluded"] == 0, "image_id"])


def test_batches_carry_ids_and_persons(tiny_mask):
    root, labels, df = tiny_mask
    ds = LabelsDataset(labels, root, transform=build_transforms(32, train=False))
    b = next(iter(make_loader(ds, batch_size=5)))
    assert b["image"].shape == (5, 3, 32, 32) and b["image"].dtype == torch.float32
    assert b["target"].tolist() == ds.targets[:5]
    assert b["image_id"] == ds.image_ids[:5] and b["index"].tolist() == [0, 1, 2, 3, 4]
    persons = dict(zip(df["image_id"], df["person"].astype(str).str.zfill(6)))
    assert b["person"] == [persons[i] for i in b["image_id"]] and b["skipped"] == 0


def test_corrupt_image_is_skipped_with_a_warning(tiny_mask, tmp_path):
    root, labels, _ = tiny_mask
    copy = tmp_path / "mask"
    shutil.copytree(root, copy)
    ds = LabelsDataset(labels, copy, transform=build_transforms(32, train=False))
    bad = ds.image_ids[3]
    data = (copy / bad).read_bytes()
    (copy / bad).write_bytes(data[: len(data) // 3])  # truncated JPEG
    with pytest.warns(UnreadableImageWarning, match=bad):
        batches = list(make_loader(ds, batch_size=8))
    ids = [i for b in batches for i in b["image_id"]]
    assert bad not in ids and len(ids) == len(ds) - 1
    assert sum(b["skipped"] for b in batches) == 1


def test_a_batch_of_only_unreadable_images_is_empty_not_an_error(tiny_mask, tmp_path):
    root, labels, _ = tiny_mask
    copy = tmp_path / "mask"
    shutil.copytree(root, copy)
    ds = LabelsDataset(labels, copy, transform=build_transforms(32, train=False))
    for i in ds.image_ids[:2]:
        (copy / i).write_text("not a jpeg")
    with pytest.warns(UnreadableImageWarning):
        b = next(iter(make_loader(ds, batch_size=2)))
    assert len(b["target"]) == 0 and b["skipped"] == 2


def test_generic_layout_classes_are_the_sorted_labels(tmp_path):
    for i, label in enumerate(["dog", "cat", "dog", "bird"]):
        Image.new("RGB", (20, 20), (i * 40, 0, 0)).save(tmp_path / f"{i}.png")
    pd.DataFrame({"image_id": [f"{i}.png" for i in range(4)], "path": [f"{i}.png" for i in range(4)],
                  "person": "", "label": ["dog", "cat", "dog", "bird"], "excluded": [0, 0, 0, 1],
                  "changed": 0, "last_reviewer": ""}).to_csv(tmp_path / "labels.csv", index=False)
    ds = LabelsDataset(tmp_path / "labels.csv", tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.targets == [1, 0, 1] and ds.layout == "generic"
    assert ds.persons == ["0.png", "1.png", "2.png"]  # no person: every image is its own group


@pytest.mark.parametrize("edit, message", [
    (lambda df: df.drop(columns="label"), "missing column"),
    (lambda df: df.assign(label=df["label"].where(df.index != 4, "martian")), ":6: label 'martian'"),
    (lambda df: df.assign(class_index=df["class_index"].where(df.index != 2, 17)), ":4: class_index"),
    (lambda df: pd.concat([df, df.iloc[[0]]]), "appears twice"),
    (lambda df: df.assign(excluded=1), "no trainable rows"),
])
def test_bad_labels_files_name_the_problem(tiny_mask, tmp_path, edit, message):
    _, labels, df = tiny_mask
    edit(df).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(LabelsError, match=message):
        read_labels(tmp_path / "bad.csv")


def test_paths_escaping_the_root_are_refused(tiny_mask, tmp_path):
    root, _, df = tiny_mask
    df.assign(path=df["path"].where(df.index != 1, "../../etc/passwd")).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(LabelsError, match="escapes the dataset root"):
        LabelsDataset(tmp_path / "l.csv", root)


def test_face_boxes_keep_the_best_box_and_tolerate_absence(tmp_path):
    assert read_face_boxes(tmp_path / "missing.parquet") == {} and read_face_boxes(None) == {}
    pd.DataFrame({"image_id": ["a", "a", "b"], "x1": [0, 10, 5], "y1": [0, 10, 5], "x2": [5, 50, 9],
                  "y2": [5, 50, 9], "score": [0.5, 0.9, 0.7]}).to_parquet(tmp_path / "faces.parquet")
    boxes = read_face_boxes(tmp_path / "faces.parquet")
    assert {k: v[:4] for k, v in boxes.items()} == {"a": (10, 10, 50, 50), "b": (5, 5, 9, 9)}


def _marked_image(path, box):
    arr = np.full((600, 400, 3), 30, np.uint8)
    x1, y1, x2, y2 = box
    arr[y1:y2, x1:x2] = (250, 20, 20)
    Image.fromarray(arr).save(path, quality=95)


@pytest.mark.parametrize("loader", ["full", "reduced"])
def test_face_crop_centres_the_box_also_on_reduced_decodes(tmp_path, loader):
    box = (40, 300, 140, 400)  # a red square far from the centre, in original pixels
    _marked_image(tmp_path / "x.jpg", box)
    load = reduced_loader(64) if loader == "reduced" else (lambda p: Image.open(p).convert("RGB"))
    img = load(tmp_path / "x.jpg")
    crop = np.asarray(crop_image(img, "face-boxes", box, margin=0.4))
    assert abs(crop.shape[0] - crop.shape[1]) <= 1
    h, w = crop.shape[:2]
    assert crop[h // 2 - h // 10, w // 2, 0] > 200  # the face is in the crop, near its centre
    if loader == "reduced":
        assert img.size[0] < 400 and min(img.size) >= 64


def test_one_relative_crop_box_for_every_image_grown_to_a_square(tmp_path):
    box = (40, 300, 140, 400)
    _marked_image(tmp_path / "x.jpg", box)
    rel = (40 / 400, 300 / 600, 140 / 400, 420 / 600)          # a 100 x 120 px box, relative to the image
    for img in (Image.open(tmp_path / "x.jpg").convert("RGB"), reduced_loader(64)(tmp_path / "x.jpg")):
        crop = np.asarray(crop_image(img, "faces", rel))
        h, w = crop.shape[:2]
        assert abs(h - w) <= 1 and abs(h / img.size[1] - 120 / 600) < 0.02   # the box's longer side, square
        assert crop[h // 2 - h // 10, w // 2, 0] > 200


def test_crop_faces_without_its_crop_box_is_refused(tiny_mask):
    root, labels, _ = tiny_mask
    with pytest.raises(ValueError, match="crop_box"):
        LabelsDataset(labels, root, crop="faces")


def test_faces_without_a_box_and_center_take_the_centred_square(tmp_path):
    img = Image.new("RGB", (400, 600))
    assert crop_image(img, "face-boxes", None).size == (400, 400) == crop_image(img, "center").size
    assert crop_image(img, "faces", None).size == (400, 400)
    assert crop_image(img, "none").size == (400, 600)
    assert face_crop_box((390, 590, 400, 600), 400, 600)[2:] == (400, 600)  # clipped inside the image


def test_transforms_shapes_and_train_randomness():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (80, 60, 3), dtype=np.uint8))
    ev = build_transforms(32, train=False)
    assert ev(img).shape == (3, 32, 32) and torch.equal(ev(img), ev(img))
    tr = build_transforms(32, train=True, crop="center")
    torch.manual_seed(0)
    outs = [tr(img) for _ in range(4)]
    assert all(o.shape == (3, 32, 32) for o in outs) and not all(torch.equal(outs[0], o) for o in outs[1:])
    with pytest.raises(ValueError):
        build_transforms(32, train=True, crop="random")
