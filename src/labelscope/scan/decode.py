"""Bytes -> one upright 8-bit RGB image, with a clear error for anything that is not one.

Truncated files are errors whatever Pillow's global ``LOAD_TRUNCATED_IMAGES`` says; an image
over the pixel limit is refused before its pixels are decoded (a decompression bomb); EXIF
orientation is applied; every Pillow mode is brought to RGB (alpha flattened on white,
16-bit and float scaled to 0..255).
"""
from __future__ import annotations

import io
import re
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PIXELS = 89_478_485
"""Pixel limit (Pillow's own default, ~89 MP). Larger images are reported as decompression bombs."""

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_ORIENTATION = 0x0112


class ImageDecodeError(Exception):
    """The file is not a usable image; the message says why, in words a reviewer understands."""


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
    """``img.load()`` with truncated files as errors, whatever the global Pillow setting.

    Pillow's ``LOAD_TRUNCATED_IMAGES`` is a process-wide switch; it is only touched (and put
    back) when someone has turned it on.
    """
    lenient = ImageFile.LOAD_TRUNCATED_IMAGES
    if lenient:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as e:
        msg = str(e) or type(e).__name__
        if "truncated" in msg.lower() or "broken data stream" in msg or isinstance(e, EOFError):
            raise ImageDecodeError(f"truncated {fmt or 'image'} ({msg})") from None
        raise ImageDecodeError(f"cannot decode {fmt or 'image'} ({msg})") from None
    finally:
        if lenient:
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
