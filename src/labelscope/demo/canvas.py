"""A float RGB canvas with soft, anti-aliased shape operations, for the demo's drawings.

Every operation works on the bounding box of its shape only (a 384x512 portrait has dozens
of shapes), so drawing a whole head costs tens of milliseconds. Colours are RGB floats in
[0, 1]; shapes are ``(N, 2)`` arrays of (x, y) pixel coordinates, sub-pixel accurate.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

_SHIFT = 4  # sub-pixel bits for cv2 drawing
Poly = np.ndarray
Colour = Sequence[float] | np.ndarray


def ellipse_pts(cx: float, cy: float, ax: float, ay: float, *, angle: float = 0.0,
                start: float = 0.0, end: float = 360.0, n: int = 48) -> Poly:
    """Points on an ellipse (angles in degrees, rotated by ``angle``)."""
    t = np.deg2rad(np.linspace(start, end, n, endpoint=end - start < 360))
    x, y = ax * np.cos(t), ay * np.sin(t)
    a = np.deg2rad(angle)
    return np.stack([cx + x * np.cos(a) - y * np.sin(a), cy + x * np.sin(a) + y * np.cos(a)], axis=1)


def bezier(*ctrl: Sequence[float], n: int = 24) -> Poly:
    """A quadratic or cubic Bezier curve through control points, as ``n`` points."""
    p = np.asarray(ctrl, dtype=np.float64)
    t = np.linspace(0.0, 1.0, n)[:, None]
    if len(p) == 3:
        return (1 - t) ** 2 * p[0] + 2 * (1 - t) * t * p[1] + t ** 2 * p[2]
    return (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t ** 2 * p[2] + t ** 3 * p[3]


class Canvas:
    """An ``(h, w, 3)`` float32 image plus soft shape operations on it.

    ``clip`` (optional, ``(h, w)`` in [0, 1]) limits where an operation acts, e.g. to the skin.
    """

    def __init__(self, img: np.ndarray):
        self.img = img
        self.h, self.w = img.shape[:2]

    @classmethod
    def blank(cls, h: int, w: int, colour: Colour) -> "Canvas":
        img = np.empty((h, w, 3), np.float32)
        img[:] = np.asarray(colour, np.float32)
        return cls(img)

    # shapes -> alpha on their bounding box
    def alpha(self, polys: Poly | list[Poly], *, stroke: float = 0.0, closed: bool = True,
              blur: float = 0.0) -> tuple[np.ndarray, int, int] | None:
        """Coverage of the shapes in [0, 1] on their padded bounding box: ``(alpha, y0, x0)``."""
        polys = [np.asarray(p, np.float64) for p in (polys if isinstance(polys, list) else [polys])]
        allp = np.concatenate(polys)
        pad = int(stroke + 3 * blur + 3)
        x0 = max(int(np.floor(allp[:, 0].min())) - pad, 0)
        y0 = max(int(np.floor(allp[:, 1].min())) - pad, 0)
        x1 = min(int(np.ceil(allp[:, 0].max())) + pad, self.w)
        y1 = min(int(np.ceil(allp[:, 1].max())) + pad, self.h)
        if x1 <= x0 or y1 <= y0:
            return None
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        pts = [np.round((p - (x0, y0)) * (1 << _SHIFT)).astype(np.int32) for p in polys]
        if stroke > 0:
            cv2.polylines(m, pts, closed, 255, max(1, int(round(stroke))), cv2.LINE_AA, _SHIFT)
        else:
            cv2.fillPoly(m, pts, 255, cv2.LINE_AA, _SHIFT)
        a = m.astype(np.float32) * (1.0 / 255.0)
        if blur > 0:
            a = cv2.GaussianBlur(a, (0, 0), blur)
        return a, y0, x0

    def _roi(self, a: np.ndarray, y0: int, x0: int, clip: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        h, w = a.shape
        if clip is not None:
            a = a * clip[y0:y0 + h, x0:x0 + w]
        return self.img[y0:y0 + h, x0:x0 + w], a

    def paint(self, polys: Poly | list[Poly], colour: Colour, *, opacity: float = 1.0, stroke: float = 0.0,
              closed: bool = True, blur: float = 0.0, clip: np.ndarray | None = None) -> None:
        """Blend ``colour`` over the shapes (filled, or stroked ``stroke`` px wide)."""
        got = self.alpha(polys, stroke=stroke, closed=closed, blur=blur)
        if got is None:
            return
        roi, a = self._roi(*got, clip)
        roi += (np.asarray(colour, np.float32) - roi) * (a * opacity)[..., None]

    def shade(self, polys: Poly | list[Poly], factor: float, *, stroke: float = 0.0, closed: bool = True,
              blur: float = 0.0, clip: np.ndarray | None = None) -> None:
        """Multiply the image under the shapes by ``factor`` (<1 darkens, >1 lightens)."""
        got = self.alpha(polys, stroke=stroke, closed=closed, blur=blur)
        if got is None:
            return
        roi, a = self._roi(*got, clip)
        roi *= (1.0 + (factor - 1.0) * a)[..., None]

    def glow(self, polys: Poly | list[Poly], strength: float, *, blur: float = 0.0,
             clip: np.ndarray | None = None) -> None:
        """Move the image under the shapes towards white by ``strength`` (a highlight)."""
        got = self.alpha(polys, blur=blur)
        if got is None:
            return
        roi, a = self._roi(*got, clip)
        roi += (1.0 - roi) * (a * strength)[..., None]

    def coverage(self, polys: Poly | list[Poly], *, blur: float = 0.0) -> np.ndarray:
        """The shapes' coverage as a full-canvas ``(h, w)`` float32 array."""
        out = np.zeros((self.h, self.w), np.float32)
        got = self.alpha(polys, blur=blur)
        if got is not None:
            a, y0, x0 = got
            out[y0:y0 + a.shape[0], x0:x0 + a.shape[1]] = a
        return out
