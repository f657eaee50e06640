"""Array helpers of the scan: zero-copy pixels, box downscales into reused buffers, and the
measures computed on them (Laplacian variance, the grayscale test)."""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image


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

        arr = pa.Array._import_from_c_capsule(*rgb.__arrow_c_array__())
        return np.frombuffer(arr.values.buffers()[1], np.uint8).reshape(rgb.size[1], rgb.size[0], 4)
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


def release_scratch() -> None:
    """Drop the work buffers (a scan calls this after each chunk, so memory stays bounded)."""
    _SCRATCH.clear()


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


def same_histograms(counts: np.ndarray, n: int, *, moved: float = 0.2) -> bool:
    """Cheap necessary condition for grey pixels: the three 256-bin histograms nearly agree."""
    limit = 2 * moved * n
    return bool(np.abs(counts[0] - counts[1]).sum() <= limit and np.abs(counts[1] - counts[2]).sum() <= limit)


def looks_grayscale(small: np.ndarray, *, tol: int = 12) -> bool:
    """True when the R, G and B channels (of RGB or RGBX pixels) are nearly equal (JPEG noise tolerated)."""
    a = small[..., :3].astype(np.int16)
    d = np.maximum(np.abs(a[..., 0] - a[..., 1]), np.abs(a[..., 1] - a[..., 2]))
    return bool(d.mean() < 2.0 and np.count_nonzero(d > tol) < 0.01 * d.size)
