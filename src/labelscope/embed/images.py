"""One decoded image for every embedder (and the face detector): pixels, scale, face hint.

After the scan, the expensive passes (face boxes and the pretrained embedders) share one decode
per image: ``decode`` reads the file once at reduced size (JPEG DCT scaling, upright by EXIF)
and every consumer takes what it needs from the same ``Decoded``. An embedder that can work on
decoded images has an ``encode(images, ctx)`` function; its ``compute(ctx)`` (used when it runs
alone) is ``encode`` over ``decode`` of each path.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .base import EmbedContext

DECODE_SIDE = 512
"""Images are decoded so their longest side is at most about this (every embedder needs less)."""


@dataclass
class Decoded:
    """An image decoded once, and where its main face is (when known).

    Attributes
    ----------
    rgb : ndarray, uint8 (h, w, 3)
        Upright pixels, reduced so the longest side is about ``DECODE_SIDE`` or less.
    size : (int, int)
        The full upright (width, height) of the file.
    scale : float
        Decoded pixels per original pixel (``rgb.shape[1] / size[0]``).
    box : (x1, y1, x2, y2) or None
        The main face in original pixels (from the face detector), None when none is known.
    landmarks : ndarray (5, 2) or None
        Its five landmarks (right eye, left eye, nose, mouth right, mouth left), original pixels.
    """

    rgb: np.ndarray
    size: tuple[int, int]
    scale: float
    box: tuple[float, float, float, float] | None = None
    landmarks: np.ndarray | None = None

    def box_here(self) -> tuple[float, float, float, float] | None:
        """The face box in the decoded image's pixels."""
        return None if self.box is None else tuple(v * self.scale for v in self.box)  # type: ignore[return-value]

    def landmarks_here(self) -> np.ndarray | None:
        return None if self.landmarks is None else np.asarray(self.landmarks, np.float32) * self.scale


EncodeFn = Callable[[list[Decoded], EmbedContext], np.ndarray]


def decode(path: str | Path, *, max_side: int = DECODE_SIDE) -> Decoded | None:
    """The file decoded once (see ``labelscope.faces.read_image``), or None when unreadable."""
    from ..faces.stage import read_image

    try:
        rgb, size, scale = read_image(path, max_side=max_side)
    except Exception:  # truncated, not an image, unreadable: the caller leaves it out
        return None
    return Decoded(np.ascontiguousarray(rgb), size, scale)


@dataclass(frozen=True)
class FaceHint:
    box: tuple[float, float, float, float]
    landmarks: np.ndarray | None


def face_hints(workspace: Any) -> dict[str, FaceHint]:
    """image_id -> the main face of the workspace's face scan (``faces.parquet``); {} without one."""
    path = getattr(workspace, "faces", None)
    if path is None:
        return {}
    from ..faces import load_faces

    df = load_faces(Path(path), missing_ok=True)
    df = df.dropna(subset=["x1", "y1", "x2", "y2"])
    out = {}
    for r in df[["image_id", "x1", "y1", "x2", "y2", "landmarks"]].itertuples(index=False):
        lm = np.asarray(r.landmarks if r.landmarks is not None else [], np.float32)
        out[str(r.image_id)] = FaceHint((float(r.x1), float(r.y1), float(r.x2), float(r.y2)),
                                        lm.reshape(5, 2) if lm.size == 10 else None)
    return out


def faces_token(workspace: Any) -> str:
    """What face-based vectors depend on besides the image: the detector settings of the face scan.

    Not the file's mtime: a face scan that only adds new images keeps the other vectors valid
    (a changed image has a new fingerprint and is embedded again anyway).
    """
    path = getattr(workspace, "faces", None)
    if path is None or not Path(path).is_file():
        return "no-faces"
    import pandas as pd

    try:
        det = pd.read_parquet(path, columns=["detector"])["detector"].dropna().astype(str).unique()
    except Exception:  # an older table: fall back to its identity
        st = Path(path).stat()
        return f"{st.st_size}:{st.st_mtime_ns}"
    return ",".join(sorted(det)) or "no-faces"


def with_hints(images: list[Decoded | None], image_ids: list[str], hints: dict[str, FaceHint]) -> None:
    """Attach the known face of each image (in place)."""
    for d, iid in zip(images, image_ids):
        h = hints.get(iid)
        if d is not None and h is not None and d.box is None:
            d.box, d.landmarks = h.box, h.landmarks


def compute_by_decoding(encode: EncodeFn, dim: int, *, uses_faces: bool = False,
                        meta: dict[str, Any] | None = None) -> Callable[[EmbedContext], tuple[np.ndarray, np.ndarray, dict]]:
    """A ``compute(ctx)`` for an embedder that has an ``encode``: decode each path, encode in batches."""

    def compute(ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        hints = face_hints(ctx.workspace) if uses_faces and ctx.workspace is not None else {}
        n = len(ctx.paths)
        out = np.zeros((n, dim), dtype=np.float32)
        ok = np.zeros(n, dtype=bool)
        step = max(1, ctx.batch_size)
        for start in range(0, n, step):
            rows = list(range(start, min(n, start + step)))
            dec = [decode(ctx.paths[k]) for k in rows]
            with_hints(dec, [ctx.image_ids[k] for k in rows], hints)
            good = [k for k, d in zip(rows, dec) if d is not None]
            if good:
                out[good] = encode([d for d in dec if d is not None], ctx)
                ok[good] = True
            if ctx.progress:
                ctx.progress(rows[-1] + 1, n)
        return out, ok, dict(meta or {})

    return compute
