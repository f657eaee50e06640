"""Reading images for the pretrained embedders: small, fast, and never crashing on a bad file."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterator

import numpy as np


def read_rgb(path: Path, *, min_side: int) -> np.ndarray | None:
    """The image as uint8 RGB [h, w, 3], its shorter side >= ``min_side`` where the file allows.

    JPEGs are decoded in draft mode (libjpeg's DCT scaling), so a 4000 px photo costs about
    as much as a 500 px one. Returns None for a file that cannot be decoded.
    """
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.format == "JPEG":
                    w, h = im.size
                    scale = max(1, min(w, h) // max(min_side, 1))
                    if scale > 1:
                        im.draft("RGB", (max(1, w // scale), max(1, h // scale)))
                im = ImageOps.exif_transpose(im)
                im = im.convert("RGB")
                return np.asarray(im)
    except Exception:  # truncated, not an image, unreadable: the caller leaves it out
        return None


def set_torch_threads(threads: int) -> None:
    """Use exactly ``threads`` CPU threads for torch ops (the machine may be shared)."""
    import torch

    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def batches(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, max(1, size)):
        yield range(start, min(n, start + size))


def resize_center(rgb: np.ndarray, size: int, *, crop: float = 1.0) -> np.ndarray:
    """Resize the shorter side to ``size / crop`` and take the central ``size`` x ``size``."""
    from PIL import Image

    h, w = rgb.shape[:2]
    short = size / crop
    s = short / min(h, w)
    nw, nh = max(size, round(w * s)), max(size, round(h * s))
    im = Image.fromarray(rgb).resize((nw, nh), Image.BILINEAR, reducing_gap=2.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return np.asarray(im.crop((left, top, left + size, top + size)))
