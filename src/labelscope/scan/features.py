"""Per-image scan features from one decode: a pure function of the file's bytes.

>>> row = compute_features("data/demo/images/000001_male_Asian_45/mask1.jpg")
>>> row["width"], row["height"], row["mean_r"], row["error"]

The file is read once (its SHA-1 comes from those bytes) and decoded once by Pillow. Only
two passes then touch every pixel, both in C: one 768-bin RGB histogram (the 32-bin
histograms, channel means and stds and the brightness all follow from it exactly) and one
2x2 box downscale. Contrast, sharpness and the perceptual hash are measured on that half-size
image (a quarter of the work, and less JPEG noise), and the thumbnail is shrunk from it.
"""
from __future__ import annotations

import hashlib
import math
import os
from typing import Any

import cv2
import numpy as np
from PIL import Image

from .decode import MAX_PIXELS, ImageDecodeError, decode_rgb
from .phash import phash_from_gray
from .pixels import half, laplacian_variance, looks_grayscale, pixels, same_histograms, shrink

SCANNER_VERSION = "1"
"""Bump when any feature's definition changes: cached rows of another version are recomputed."""

THUMB_SIZE = 128
"""Longest side of a thumbnail, in pixels (smaller images keep their size)."""

THUMB_QUALITY = 85
HIST_BINS = 32
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})

FEATURE_COLUMNS = (
    "image_id", "file_size", "mtime_ns", "ctime_ns", "scanner_version", "error",
    "format", "mode", "width", "height", "aspect",
    "mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b",
    "hist_r", "hist_g", "hist_b",
    "brightness", "contrast", "sharpness", "phash", "sha1", "is_grayscale",
)
"""Columns of ``features.parquet``, in order. Thumbnails live apart, in ``thumbs.parquet``."""


def compute_features(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS,
                     thumb_size: int = THUMB_SIZE) -> dict[str, Any]:
    """Features of one image file, from one read and one decode.

    Parameters
    ----------
    path : path-like
        The image file. It is read once; nothing is written.
    max_pixels : int, default MAX_PIXELS
        Images with more pixels (width x height) are not decoded; ``error`` says so. Pillow's
        own limit (``Image.MAX_IMAGE_PIXELS``) applies as well, its warning counting as an error.
    thumb_size : int, default 128
        Longest side of the thumbnail.

    Returns
    -------
    dict
        ``file_size`` (bytes), ``sha1`` (hex of the bytes), ``format`` and ``mode`` (as stored),
        ``width``, ``height`` (after EXIF orientation), ``aspect`` (width / height),
        ``mean_r/g/b`` and ``std_r/g/b`` (0..255, population std), ``hist_r/g/b`` (32 counts
        each over 0..255, each summing to width * height), ``brightness`` (mean Rec.601
        luminance), ``contrast`` (its std) and ``sharpness`` (variance of the 3x3 Laplacian
        of the luminance), both at half size, ``phash`` (64-bit DCT hash as a signed int),
        ``is_grayscale``,
        ``thumb`` (JPEG bytes) and ``error`` ("" when the image was decoded). When ``error`` is
        set the pixel features are NaN / empty and the scan goes on.
    """
    row = empty_row()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        row["error"] = "file not found"
        return row
    except OSError as e:
        row["error"] = f"cannot read file ({e.strerror or e})"
        return row
    row["file_size"] = len(data)
    row["sha1"] = hashlib.sha1(data).hexdigest()
    if not data:
        row["error"] = "empty file (0 bytes)"
        return row
    try:
        rgb = decode_rgb(data, row, max_pixels=max_pixels)
        describe(rgb, row, thumb_size=thumb_size)
    except ImageDecodeError as e:
        row["error"] = str(e)
    except MemoryError:
        row["error"] = "out of memory while decoding"
    except Exception as e:  # never let one odd file stop a scan
        row["error"] = f"cannot compute features ({type(e).__name__}: {e})"
    if row["error"]:
        row.update(_MISSING)
    return row


_NAN = float("nan")
_MISSING = {
    "aspect": _NAN, "mean_r": _NAN, "mean_g": _NAN, "mean_b": _NAN, "std_r": _NAN, "std_g": _NAN, "std_b": _NAN,
    "hist_r": [], "hist_g": [], "hist_b": [], "brightness": _NAN, "contrast": _NAN, "sharpness": _NAN,
    "phash": None, "is_grayscale": None, "thumb": b"",
}
"""Pixel features of an image that could not be decoded (a failure half-way leaves none)."""


def empty_row() -> dict[str, Any]:
    """A row with every feature missing (what an unreadable image keeps)."""
    return {"file_size": 0, "error": "", "format": "", "mode": "", "width": None, "height": None, "sha1": "",
            **_MISSING}


def describe(rgb: Image.Image, row: dict[str, Any], *, thumb_size: int = THUMB_SIZE) -> None:
    """Fill ``row`` with the pixel statistics, hash and thumbnail of an 8-bit RGB image.

    Histograms, channel means and stds and brightness are exact over every pixel. Contrast,
    sharpness and the hash are measured on the image box-averaged to half size (when its
    shorter side is at least ``2 * MIN_ANALYSIS_SIDE``).
    """
    w, h = rgb.size
    row["aspect"] = w / h if h else float("nan")
    counts = channel_stats(rgb, row)
    px = pixels(rgb)
    work = half(px) if min(w, h) >= 2 * MIN_ANALYSIS_SIDE else px
    texture(work, row)
    small = shrink(work, thumb_size)
    row["is_grayscale"] = row.get("mode") in GRAY_MODES or (same_histograms(counts, w * h)
                                                            and looks_grayscale(small))
    row["thumb"] = encode_thumb(small)


def channel_stats(rgb: Image.Image, row: dict[str, Any]) -> np.ndarray:
    """32-bin histograms, means, stds and Rec.601 brightness from one 768-bin histogram.

    Returns the ``(3, 256)`` int64 counts. Sums are exact integers, so means and stds equal a
    float64 NumPy computation on the decoded pixels to rounding.
    """
    n = rgb.size[0] * rgb.size[1]
    counts = np.fromiter(rgb.histogram(), dtype=np.int64, count=768).reshape(3, 256)
    hist = counts.reshape(3, HIST_BINS, 256 // HIST_BINS).sum(axis=2).tolist()
    mean = [s / n for s in (counts @ _LEVELS).tolist()]
    std = [math.sqrt(max(q / n - m * m, 0.0)) for q, m in zip((counts @ _LEVELS_SQ).tolist(), mean)]
    row.update(mean_r=mean[0], mean_g=mean[1], mean_b=mean[2], std_r=std[0], std_g=std[1], std_b=std[2],
               hist_r=hist[0], hist_g=hist[1], hist_b=hist[2],
               brightness=0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2])
    return counts


def texture(work: np.ndarray, row: dict[str, Any]) -> None:
    """Contrast (std of luminance), sharpness (Laplacian variance) and pHash of RGB(X) pixels."""
    gray = cv2.cvtColor(work, cv2.COLOR_RGBA2GRAY if work.shape[2] == 4 else cv2.COLOR_RGB2GRAY)
    row["contrast"] = float(cv2.meanStdDev(gray)[1][0, 0])
    row["sharpness"] = laplacian_variance(gray)
    row["phash"] = phash_from_gray(gray)


def encode_thumb(small: np.ndarray) -> bytes:
    """JPEG bytes of RGB(X) pixels."""
    bgr = cv2.cvtColor(small, cv2.COLOR_RGBA2BGR if small.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", bgr, (cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY))
    return jpeg.tobytes() if ok else b""


_LEVELS = np.arange(256, dtype=np.int64)
_LEVELS_SQ = _LEVELS * _LEVELS
MIN_ANALYSIS_SIDE = 32
