"""The faces stage with a stand-in detector: coordinates mapped back, cache, unreadable files."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from labelscope.dataset import load_dataset
from labelscope.faces import Face, best_face, detect_faces, load_all_faces, load_faces, prepare, read_image

from .fakes import BrightBoxDetector


def picture(path, size, box, fmt="JPEG", exif_orientation=None):
    w, h = size
    a = np.full((h, w, 3), 60, np.uint8)
    x1, y1, x2, y2 = box
    a[y1:y2, x1:x2] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(a)
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        img.save(path, fmt, quality=95, exif=exif.tobytes())
    else:
        img.save(path, fmt, quality=95)
    return path


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "ds"
    picture(root / "a" / "big.jpg", (2000, 1500), (800, 300, 1200, 900))     # decoded reduced (draft)
    picture(root / "a" / "tiny.png", (40, 50), (10, 10, 30, 40), fmt="PNG")  # upscaled before detection
    picture(root / "b" / "none.jpg", (300, 200), (0, 0, 0, 0))               # no bright pixel: no face
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def test_prepare_pads_and_scales():
    p = prepare(np.zeros((50, 40, 3), np.uint8), pad_fraction=0.25, min_side=160, max_side=512)
    assert p.scale == pytest.approx(4.0)
    assert p.pad == (50, 50) and p.array.shape == (200 + 100, 160 + 100, 3)
    assert p.array[0, 0, 0] == 127  # grey border
    p = prepare(np.zeros((1000, 2000, 3), np.uint8), max_side=500)
    assert p.scale == pytest.approx(0.25) and p.array.shape[1] == 500 + 2 * 125


def test_face_mapping_and_best_face():
    f = Face((60.0, 70.0, 100.0, 110.0), 0.9, np.array([[60.0, 70.0]] * 5))
    m = f.mapped(2.0, (10, 20), size=(100, 100))
    assert m.box == (25.0, 25.0, 45.0, 45.0) and m.landmarks[0].tolist() == [25.0, 25.0]
    assert f.mapped(0.5, (0, 0), size=(150, 150)).box == (120.0, 140.0, 150.0, 150.0)  # clipped
    small, big = Face((0, 0, 10, 10), 0.99), Face((0, 0, 50, 50), 0.97)
    assert best_face([small, big]) is big                       # within 0.05 of the top score: larger wins
    assert best_face([small, Face((0, 0, 50, 50), 0.7)]) is small
    assert best_face([]) is None


def test_boxes_come_back_in_original_pixels(folder, tmp_path):
    m = load_dataset(folder)
    det = BrightBoxDetector()
    seen = []
    s = detect_faces(folder, tmp_path / "ws", manifest=m, detector=det, progress=lambda d, t: seen.append((d, t)))
    assert (s.total, s.detected, s.cached, s.with_face, s.no_face, s.unreadable) == (4, 4, 0, 2, 1, 1)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    f = load_faces(tmp_path / "ws").set_index("image_id")
    big = f.loc["a/big.jpg"]
    assert (big["width"], big["height"]) == (2000, 1500)
    assert np.allclose([big.x1, big.y1, big.x2, big.y2], [800, 300, 1200, 900], atol=12)
    assert max(det.seen_shapes, key=lambda s: s[1])[1] <= 512 + 2 * 128  # decoded small, never full size
    tiny = f.loc["a/tiny.png"]
    assert np.allclose([tiny.x1, tiny.y1, tiny.x2, tiny.y2], [10, 10, 30, 40], atol=1.5)
    assert len(tiny["landmarks"]) == 10
    none = f.loc["b/none.jpg"]
    assert none["n_faces"] == 0 and np.isnan(none["x1"]) and none["error"] == ""
    broken = f.loc["b/broken.jpg"]
    assert broken["error"] and broken["n_faces"] == 0
    every = load_all_faces(tmp_path / "ws")
    assert sorted(every["image_id"]) == ["a/big.jpg", "a/tiny.png"] and set(every["face"]) == {0}


def test_cache_is_incremental(folder, tmp_path):
    m = load_dataset(folder)
    ws = tmp_path / "ws"
    detect_faces(folder, ws, manifest=m, detector=BrightBoxDetector())
    det = BrightBoxDetector()
    s = detect_faces(folder, ws, manifest=m, detector=det)
    assert (s.detected, s.cached, det.calls) == (0, 4, 0)
    # change one image: only it is detected again, with its new box
    picture(folder / "a" / "tiny.png", (40, 50), (0, 0, 20, 20), fmt="PNG")
    st = os.stat(folder / "a" / "tiny.png")
    os.utime(folder / "a" / "tiny.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    det = BrightBoxDetector()
    s = detect_faces(folder, ws, manifest=m, detector=det)
    assert (s.detected, det.calls) == (1, 1)
    f = load_faces(ws).set_index("image_id")
    assert f.loc["a/tiny.png", "x2"] == pytest.approx(20, abs=1.5)
    # another detector or force: everything again
    assert detect_faces(folder, ws, manifest=m, detector=BrightBoxDetector(), force=True).detected == 4
    # a removed image leaves the tables
    (folder / "b" / "none.jpg").unlink()
    s = detect_faces(folder, ws, manifest=load_dataset(folder), detector=BrightBoxDetector())
    assert s.total == 3 and "b/none.jpg" not in set(load_faces(ws)["image_id"])


def test_exif_rotated_jpeg_reports_upright_size(tmp_path):
    p = picture(tmp_path / "r.jpg", (300, 200), (10, 10, 50, 30), exif_orientation=6)  # 90 degrees
    rgb, (w, h), scale = read_image(p, max_side=512)
    assert (w, h) == (200, 300) and rgb.shape[:2] == (300, 200) and scale == pytest.approx(1.0)


def test_unknown_backend_and_missing_yunet_model(tmp_path):
    from labelscope.faces import make_detector

    with pytest.raises(ValueError, match="unknown face backend"):
        make_detector("haar")
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        make_detector("yunet", model=tmp_path / "missing.onnx")


def test_load_faces_before_detection_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="labelscope faces"):
        load_faces(tmp_path)
    assert load_all_faces(tmp_path).empty
