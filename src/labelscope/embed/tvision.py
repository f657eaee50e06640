"""A torchvision backbone, only when its ImageNet weights are already in the torch cache.

Looks in ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``) for the file name of any torchvision classification
weights, in the order of ``PREFERRED`` first; never downloads. The classifier head is replaced
by an identity, so the vector is the pooled penultimate layer. Licence: torchvision's code is
BSD-3-Clause; each weights file keeps its own terms (ImageNet-trained, research use).
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .base import EmbedContext
from .decode import batches, read_rgb, set_torch_threads

PREFERRED = ("resnet50", "resnet18", "efficientnet_b0", "convnext_tiny", "mobilenet_v3_large",
             "regnet_y_400mf", "mobilenet_v3_small")


def hub_checkpoints() -> Path:
    """torch.hub's checkpoint folder, found as torch does it but without importing torch."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "torch")
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def cached_weights() -> list[tuple[str, str, Path]]:
    """(model name, weights enum name, file) for every torchvision weights file in the cache."""
    folder = hub_checkpoints()
    present = {p.name for p in folder.iterdir() if p.suffix == ".pth"} if folder.is_dir() else set()
    if not present or importlib.util.find_spec("torchvision") is None:
        return []
    import torchvision.models as tvm

    names = tvm.list_models(module=tvm)
    order = [n for n in PREFERRED if n in names] + sorted(n for n in names if n not in PREFERRED)
    found = []
    for name in order:
        try:
            weights = tvm.get_model_weights(name)
        except Exception:
            continue
        for w in weights:
            fname = Path(w.url).name
            if fname in present:
                found.append((name, w.name, folder / fname))
    return found


def available(workspace: Any = None) -> tuple[bool, str]:
    found = cached_weights()
    if not found:
        return False, "no torchvision weights in the torch cache (TORCH_HOME); nothing is downloaded"
    name, wname, path = found[0]
    return True, f"{name} {wname} from {path}"


def token(workspace: Any = None) -> str:
    """The weights file in use: another file in the cache may change the backbone."""
    found = cached_weights()
    return f"{found[0][0]}:{found[0][2].name}" if found else ""


def _drop_head(model: Any) -> Any:
    import torch.nn as nn

    if isinstance(getattr(model, "fc", None), nn.Linear):
        model.fc = nn.Identity()
    elif isinstance(getattr(model, "classifier", None), nn.Sequential):
        cls = model.classifier
        last = max(i for i, m in enumerate(cls) if isinstance(m, nn.Linear))
        cls[last] = nn.Identity()
    elif isinstance(getattr(model, "classifier", None), nn.Linear):
        model.classifier = nn.Identity()
    elif hasattr(model, "heads"):
        model.heads = nn.Identity()
    else:
        raise ValueError(f"don't know the classifier head of {type(model).__name__}")
    return model


@lru_cache(maxsize=2)
def load_backbone(name: str, wname: str, path: str) -> tuple[Any, Any, int]:
    """(model without head, preprocessing transform, feature dim)."""
    import torch
    import torchvision.models as tvm

    weights = tvm.get_model_weights(name)[wname]
    model = tvm.get_model(name, weights=None)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model = _drop_head(model).eval()
    tf = weights.transforms()
    with torch.no_grad():
        size = getattr(tf, "crop_size", [224])[0]
        dim = int(model(torch.zeros(1, 3, size, size)).shape[1])
    return model, tf, dim


def compute(ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    import torch
    from PIL import Image

    found = cached_weights()
    if not found:
        raise RuntimeError("no torchvision weights in the torch cache")
    name, wname, path = found[0]
    set_torch_threads(ctx.threads)
    model, tf, dim = load_backbone(name, wname, str(path))
    n = len(ctx.paths)
    out = np.zeros((n, dim), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    for rows in batches(n, ctx.batch_size):
        xs, idx = [], []
        for k in rows:
            rgb = read_rgb(ctx.paths[k], min_side=256)
            if rgb is not None:
                xs.append(tf(Image.fromarray(rgb)))
                idx.append(k)
        if xs:
            with torch.no_grad():
                out[idx] = model(torch.stack(xs)).reshape(len(xs), -1).numpy()
            ok[idx] = True
        if ctx.progress:
            ctx.progress(rows.stop, n)
    return out, ok, {"backbone": name, "weights": wname, "file": path.name}
