"""Per-image scan features from one decode: a pure function of the file's bytes.

>>> row = compute_features("data/demo/images/000001_male_Asian_45/mask1.jpg")
>>> row["width"], row["height"], row["mean_r"], row["error"]

Every feature comes from a single PIL decode of the bytes read once from disk. The costly
full-resolution passes are few and done in C: one 768-bin RGB histogram (histograms, means
and standard deviations all follow from it exactly), one luminance conversion (brightness,
contrast, the Laplacian for sharpness) and one box downscale to the thumbnail (which the
perceptual hash and the grayscale test reuse).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .phash import phash_from_gray

SCANNER_VERSION = "1"
"""Bump when any feature's definition changes: cached rows of another version are recomputed."""

MAX_PIXELS = 89_478_485
"""Pixel limit (Pillow's own default, ~89 MP). Larger images are reported as decompression bombs."""

THUMB_SIZE = 128
"""Longest side of a thumbnail, in pixels (smaller images keep their size)."""

THUMB_QUALITY = 85
HIST_BINS = 32
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_ORIENTATION = 0x0112

FEATURE_COLUMNS = (
    "image_id", "file_size", "mtime_ns", "scanner_version", "error",
    "format", "mode", "width", "height", "aspect",
    "mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b",
    "hist_r", "hist_g", "hist_b",
    "brightness", "contrast", "sharpness", "phash", "sha1", "is_grayscale",
)
"""Columns of ``features.parquet``, in order. Thumbnails live apart, in ``thumbs.parquet``."""


class ImageDecodeError(Exception):
    """The file is not a usable image; the message says why, in words a reviewer understands."""


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
        each over 0..255, each summing to width * height), ``brightness`` and ``contrast``
        (mean and std of Rec.601 luminance), ``sharpness`` (variance of the 3x3 Laplacian of
        the luminance), ``phash`` (64-bit DCT hash as a signed int), ``is_grayscale``,
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
    return row


def empty_row() -> dict[str, Any]:
    """A row with every feature missing (what an unreadable image keeps)."""
    nan = float("nan")
    return {
        "file_size": 0, "error": "", "format": "", "mode": "", "width": None, "height": None,
        "aspect": nan, "mean_r": nan, "mean_g": nan, "mean_b": nan,
        "std_r": nan, "std_g": nan, "std_b": nan, "hist_r": [], "hist_g": [], "hist_b": [],
        "brightness": nan, "contrast": nan, "sharpness": nan, "phash": None, "sha1": "",
        "is_grayscale": None, "thumb": b"",
    }


def decode_rgb(data: bytes, row: dict[str, Any], *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode ``data`` fully, upright (EXIF orientation applied), as an 8-bit RGB image.

    Fills ``format``, ``mode``, ``width`` and ``height`` of ``row`` as soon as they are known,
    so an image that fails later still says what it claimed to be.

    Raises
    ------
    ImageDecodeError
        Not an image, too many pixels, truncated or corrupt data.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise ImageDecodeError("not an image (cannot identify image file)") from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
            m = re.search(r"\((\d+) pixels\)", str(e))
            n = f"{int(m.group(1)):,} pixels" if m else "image size"
            raise ImageDecodeError(f"decompression bomb: {n} exceeds limit") from None
        except Exception as e:  # a plugin choking on a malformed or cut header
            kind = sniff_format(data)
            if "truncat" in str(e).lower() or isinstance(e, EOFError):
                raise ImageDecodeError(f"truncated {kind} ({e})") from None
            raise ImageDecodeError(f"cannot read {kind} header ({type(e).__name__}: {e})") from None
    fmt = img.format or ""
    row["format"], row["mode"] = fmt, img.mode
    w, h = img.size
    row["width"], row["height"] = w, h
    if w * h > max_pixels:
        raise ImageDecodeError(f"decompression bomb: {w}x{h} pixels exceeds limit of {max_pixels:,}")
    _load_strict(img, fmt)
    img = _upright(img)
    row["width"], row["height"] = img.size
    return to_rgb(img)


_MAGIC = ((b"\xff\xd8", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF8", "GIF"), (b"BM", "BMP"),
          (b"II*\0", "TIFF"), (b"MM\0*", "TIFF"))


def sniff_format(data: bytes) -> str:
    """The format a file's first bytes announce ("image" when unknown), for error messages."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), "image")


def _load_strict(img: Image.Image, fmt: str) -> None:
    """``img.load()`` with truncated files as errors, whatever the global Pillow setting."""
    lenient = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as e:
        msg = str(e) or type(e).__name__
        if "truncated" in msg.lower() or "broken data stream" in msg or isinstance(e, EOFError):
            raise ImageDecodeError(f"truncated {fmt or 'image'} ({msg})") from None
        raise ImageDecodeError(f"cannot decode {fmt or 'image'} ({msg})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag (only looked up when the file carries EXIF data)."""
    if img.format == "JPEG" and "exif" not in img.info:
        return img
    try:
        orientation = img.getexif().get(_ORIENTATION, 1)
    except Exception:  # unreadable EXIF block: keep the pixels as stored
        return img
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        return ImageOps.exif_transpose(img)
    return img


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB: alpha flattened on white, 16-bit and float scaled to 0..255."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        out = Image.new("RGB", img.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    if mode.startswith("I") or mode == "F":
        a = np.asarray(img)
        if mode == "F" and a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        elif mode != "F":
            a = a.astype(np.float32) / 257.0  # 16-bit range 0..65535 -> 0..255
        gray = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    return img.convert("RGB")


def describe(rgb: Image.Image, row: dict[str, Any], *, thumb_size: int = THUMB_SIZE) -> None:
    """Fill ``row`` with the pixel statistics, hash and thumbnail of an 8-bit RGB image.

    Histograms, channel means and stds and brightness are exact over every pixel (they come
    from one 768-bin histogram). Contrast, sharpness and the hash are measured on the image
    box-averaged to half size (when its shorter side is at least ``2 * MIN_ANALYSIS_SIDE``),
    which costs a quarter of a full-resolution pass and damps JPEG and sensor noise.
    """
    w, h = rgb.size
    n = w * h
    row["aspect"] = w / h if h else float("nan")
    counts = np.array(rgb.histogram(), dtype=np.float64).reshape(3, 256)  # exact below 2**53
    mean = counts @ _LEVELS / n
    std = np.sqrt(np.maximum(counts @ _LEVELS_SQ / n - mean * mean, 0.0))
    hist = counts.reshape(3, HIST_BINS, 256 // HIST_BINS).sum(axis=2).astype(np.int64).tolist()
    (mr, mg, mb), (sr, sg, sb) = mean.tolist(), std.tolist()
    row.update(mean_r=mr, mean_g=mg, mean_b=mb, std_r=sr, std_g=sg, std_b=sb,
               hist_r=hist[0], hist_g=hist[1], hist_b=hist[2],
               brightness=0.299 * mr + 0.587 * mg + 0.114 * mb)

    px = pixels(rgb)
    four = px.shape[2] == 4
    work = half(px) if min(w, h) >= 2 * MIN_ANALYSIS_SIDE else px
    gray = cv2.cvtColor(work, cv2.COLOR_RGBA2GRAY if four else cv2.COLOR_RGB2GRAY)
    row["contrast"] = float(cv2.meanStdDev(gray)[1][0, 0])
    row["sharpness"] = laplacian_variance(gray)
    row["phash"] = phash_from_gray(gray)

    small = shrink(work, thumb_size)
    row["is_grayscale"] = row.get("mode") in GRAY_MODES or looks_grayscale(small)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGBA2BGR if four else cv2.COLOR_RGB2BGR)
    ok, jpeg = cv2.imencode(".jpg", bgr, (cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY))
    row["thumb"] = jpeg.tobytes() if ok else b""


_LEVELS = np.arange(256, dtype=np.float64)
_LEVELS_SQ = _LEVELS * _LEVELS
MIN_ANALYSIS_SIDE = 32


def half(arr: np.ndarray) -> np.ndarray:
    """``arr`` box-averaged 2x2 (bilinear at an exact factor of 2), into a reused buffer."""
    out = scratch((arr.shape[0] // 2, arr.shape[1] // 2) + arr.shape[2:], arr.dtype)
    return cv2.resize(arr, (out.shape[1], out.shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)


def pixels(rgb: Image.Image) -> np.ndarray:
    """The pixels of an RGB image as ``(H, W, 4)`` RGBX without a copy when Pillow allows, else ``(H, W, 3)``.

    Pillow stores RGB as 4 bytes a pixel; its Arrow export hands out that buffer as is (for
    images held in one memory block), which saves packing every pixel to 3 bytes.
    """
    try:
        import pyarrow as pa

        buf = pa.array(rgb).values.buffers()[1]
        return np.frombuffer(buf, np.uint8).reshape(rgb.size[1], rgb.size[0], 4)
    except (ImportError, ValueError, TypeError, AttributeError):
        return np.asarray(rgb)


def scratch(shape: tuple[int, ...], dtype: type = np.uint8) -> np.ndarray:
    """A reusable work buffer of ``shape``: fresh big arrays cost page faults on every image.

    Buffers are kept per process for the last few shapes (datasets mostly share one size);
    callers must not keep a buffer beyond the image they are describing.
    """
    key = (shape, np.dtype(dtype).str)
    buf = _SCRATCH.pop(key, None)
    if buf is None:
        buf = np.empty(shape, dtype)
        while len(_SCRATCH) >= _SCRATCH_KEEP:
            _SCRATCH.pop(next(iter(_SCRATCH)))
    _SCRATCH[key] = buf  # most recently used last
    return buf


_SCRATCH: dict[tuple, np.ndarray] = {}
_SCRATCH_KEEP = 8


def laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 3x3 Laplacian (``cv2.Laplacian(gray, CV_64F).var()``, computed in int16)."""
    lap = cv2.Laplacian(gray, cv2.CV_16S, dst=scratch(gray.shape, np.int16))
    n = lap.size
    s1 = cv2.sumElems(lap)[0]
    s2 = cv2.norm(lap, cv2.NORM_L2SQR)
    return float(max(s2 / n - (s1 / n) ** 2, 0.0))


def shrink(arr: np.ndarray, longest: int) -> np.ndarray:
    """Box-filtered downscale so the longest side is at most ``longest`` (never upscales).

    Halves with 2x2 averaging (bilinear at an exact factor of 2) while the image is more than
    twice too big, then finishes with an area resize: as good as one area resize, much cheaper.
    """
    h, w = arr.shape[:2]
    scale = longest / max(h, w)
    if scale >= 1.0:
        return arr
    tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    while arr.shape[1] >= 2 * tw and arr.shape[0] >= 2 * th:
        arr = half(arr)
    if arr.shape[:2] != (th, tw):
        arr = cv2.resize(arr, (tw, th), interpolation=cv2.INTER_AREA)
    return arr


def looks_grayscale(small: np.ndarray, *, tol: int = 12) -> bool:
    """True when the R, G and B channels (of RGB or RGBX pixels) are nearly equal (JPEG noise tolerated)."""
    r, g, b = cv2.split(small)[:3]
    d = cv2.max(cv2.absdiff(r, g), cv2.absdiff(g, b))
    return bool(cv2.mean(d)[0] < 2.0 and cv2.countNonZero(cv2.compare(d, tol, cv2.CMP_GT)) < 0.01 * d.size)
