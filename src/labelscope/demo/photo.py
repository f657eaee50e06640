"""The seven photos of one demo person, derived from one drawn head.

``wear`` (mask1..mask5): a surgical mask over nose and mouth, each photo with its own mask
colour, pose and light; ``incorrect``: the mask below the nose or on the chin; ``not_wear``
(normal): no mask. The mask is a real mask shape (past the jaw, under the chin, pleats, ear
loops, a cast shadow), which is what let a face detector still find masked faces.
"""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from .canvas import Canvas, bezier
from .draw import HEIGHT, WIDTH, Geometry, Head
from .look import Look

JPEG_QUALITY = 90
STEMS = ("mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal")


def draw_mask(cv: Canvas, g: Geometry, colour, place: str, rng: np.random.Generator) -> None:
    """Draw a surgical mask; ``place`` is ``wear`` (over the nose), ``nose`` (below it) or ``chin``."""
    t, w, cx = g.t, g.w, g.cx
    j = rng.uniform(-0.04, 0.04) * t
    if place == "wear":
        top_c, top_s, bot_s, bot_c = g.eye + 0.45 * t + j, g.eye + 0.62 * t + j, g.nose + 0.62 * t, g.chin + 0.14 * t
    elif place == "nose":
        top_c, top_s, bot_s, bot_c = g.nose + 0.1 * t + j, g.nose + 0.18 * t + j, g.mouth + 0.6 * t, g.chin + 0.18 * t
    else:
        top_c, top_s, bot_s, bot_c = g.mouth + 0.3 * t + j, g.mouth + 0.32 * t + j, g.chin + 0.15 * t, g.chin + 0.62 * t
    over = 0.045 * w

    def xs(y: float) -> float:
        return float(g.half_width(min(y, g.chin - 0.25 * t))) + over

    tl, tr = (cx - xs(top_s), top_s), (cx + xs(top_s), top_s)
    bl, br = (cx - xs(bot_s) * 0.97, bot_s), (cx + xs(bot_s) * 0.97, bot_s)
    top = np.concatenate([bezier(tl, (cx - 0.25 * w, top_c + 0.05 * t), (cx - 0.08 * w, top_c), (cx, top_c - 0.02 * t)),
                          bezier((cx, top_c - 0.02 * t), (cx + 0.08 * w, top_c), (cx + 0.25 * w, top_c + 0.05 * t), tr)])
    right = bezier(tr, (tr[0] + 0.03 * w, (top_s + bot_s) / 2), br)
    bottom = bezier(br, (cx + 0.3 * w, bot_c + 0.02 * t), (cx - 0.3 * w, bot_c + 0.02 * t), bl)
    left = bezier(bl, (tl[0] - 0.03 * w, (top_s + bot_s) / 2), tl)
    poly = np.concatenate([top, right, bottom, left])
    col = np.asarray(colour, np.float32)
    cv.shade([bottom + (0, 7)], 0.55, stroke=10, closed=False, blur=6)          # cast shadow under the mask
    cv.shade([top + (0, 2)], 0.75, stroke=5, closed=False, blur=3)
    ear_y = (g.brow + g.nose) / 2
    loop = col * 0.85
    for s, (a, b) in ((-1, (tl, bl)), (1, (tr, br))):
        ex = cx + s * (0.5 * w + 2)
        cv.paint(bezier(a, (ex, ear_y - 0.5 * t), (ex + s * 4, ear_y - 0.1 * t)), loop, stroke=2.2, closed=False)
        cv.paint(bezier(b, (ex, ear_y + 0.6 * t), (ex + s * 4, ear_y + 0.3 * t)), loop, stroke=2.2, closed=False)
    cv.paint(poly, col)
    clip = cv.coverage(poly)
    cv.shade(poly, 0.8, stroke=18, blur=9, clip=clip)                           # curvature
    cv.glow(np.array([[cx - 0.06 * w, top_c + 0.02 * t], [cx + 0.06 * w, top_c + 0.02 * t],
                      [cx + 0.1 * w, (top_c + bot_c) / 2], [cx - 0.1 * w, (top_c + bot_c) / 2]]), 0.12, blur=6, clip=clip)
    for f in (0.3, 0.52, 0.74):
        y_s = top_s + (bot_s - top_s) * f
        y_c = top_c + (bot_c - top_c) * f
        pleat = bezier((cx - xs(y_s), y_s), (cx, y_c + 0.08 * t), (cx + xs(y_s), y_s))
        cv.shade(pleat, 0.72, stroke=2, closed=False, blur=1.0, clip=clip)
        cv.glow(pleat - (0, 2.5), 0.12, blur=1.2, clip=clip)
    cv.shade(poly, 0.85, stroke=2.5, blur=0.6, clip=clip)                       # bound edge


def _pose(img: np.ndarray, g: Geometry, rng: np.random.Generator) -> np.ndarray:
    ang = rng.uniform(-5, 5)
    sc = rng.uniform(0.94, 1.06)
    m = cv2.getRotationMatrix2D((g.cx, g.eye + 0.5 * g.t), ang, sc)
    m[:, 2] += rng.uniform(-10, 10, 2)
    return cv2.warpAffine(img, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def _light(img: np.ndarray, g: Geometry, rng: np.random.Generator) -> np.ndarray:
    """Side light, colour tint, exposure metered on the face, sensor noise; returns uint8."""
    x = np.linspace(-1, 1, WIDTH, dtype=np.float32)[None, :]
    y = np.linspace(-1, 1, HEIGHT, dtype=np.float32)[:, None]
    grad = (1 + np.float32(rng.uniform(-0.15, 0.15)) * x + np.float32(rng.uniform(-0.08, 0.08)) * y)[..., None]
    tint = (1 + rng.uniform(-0.04, 0.04, 3)).astype(np.float32)
    # exposure metered on the face, as a camera would (half-way to a mid-tone target)
    y0, y1 = int(g.brow), int(g.nose)
    x0, x1 = int(g.cx - 0.3 * g.w), int(g.cx + 0.3 * g.w)
    lum = float((img[y0:y1, x0:x1] * grad[y0:y1, x0:x1] * tint).mean()) + 1e-3
    gain = float(np.clip((0.5 / lum) ** 0.5, 0.8, 1.5)) * rng.uniform(0.9, 1.1)
    img *= grad
    img *= tint * np.float32(gain * 255.0)
    img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(2.0)
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def render(head: Head, place: str | None, colour, rng: np.random.Generator) -> np.ndarray:
    """One photo as uint8 ``(512, 384, 3)``: mask (or none), front hair, pose, light, noise."""
    cv = Canvas(head.under.copy())
    if place is not None:
        draw_mask(cv, head.geo, colour, place, rng)
    img = cv.img
    if head.over_a is not None:
        img += (head.over_rgb - img) * head.over_a[..., None]
    return _light(_pose(img, head.geo, rng), head.geo, rng)


def encode_jpeg(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img, "RGB").save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def person_photos(head: Head, look: Look, rng: np.random.Generator) -> dict[str, bytes]:
    """The seven JPEGs of one person, keyed by file stem (mask1..5, incorrect_mask, normal)."""
    out: dict[str, bytes] = {}
    for k in range(5):
        out[f"mask{k + 1}"] = encode_jpeg(render(head, "wear", look.mask_colours[k], rng))
    out["incorrect_mask"] = encode_jpeg(render(head, look.incorrect_place, look.mask_colours[0], rng))
    out["normal"] = encode_jpeg(render(head, None, None, rng))
    return out
