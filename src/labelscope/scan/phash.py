"""64-bit DCT perceptual hash (the classic pHash: 32x32 luminance, 8x8 lowest frequencies).

Near-identical images (re-encoded, resized, slightly recoloured) differ in a few bits;
unrelated images in about 32. The hash is stored as a signed int64 so it fits a Parquet
int64 column; ``hamming`` works on such values, one pair or whole arrays at once.
"""
from __future__ import annotations

import cv2
import numpy as np

HASH_SIZE = 8
DCT_SIZE = 32


def phash_from_gray(gray: np.ndarray) -> int:
    """pHash of a 2-D uint8 luminance image of any size, as a signed 64-bit int.

    The image is area-resized to 32x32, transformed with a 2-D DCT; each of the 8x8 lowest
    frequencies gives one bit (1 when above their median), row-major, first bit highest.
    """
    small = cv2.resize(gray, (DCT_SIZE, DCT_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:HASH_SIZE, :HASH_SIZE]
    flat = low.ravel()
    ordered = np.sort(flat)
    bits = flat > (ordered[31] + ordered[32]) / 2  # above the median of the 64 values
    return int.from_bytes(np.packbits(bits).tobytes(), "big", signed=True)


def hamming(a: int | np.ndarray, b: int | np.ndarray) -> int | np.ndarray:
    """Number of differing bits between signed-int64 hashes (scalars or broadcastable arrays)."""
    x = np.bitwise_xor(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
    counts = np.bitwise_count(x.view(np.uint64))
    return int(counts) if np.ndim(counts) == 0 else counts.astype(np.int64)
