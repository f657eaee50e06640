"""Draw one synthetic head-and-shoulders portrait (384x512) from a :class:`Look`.

The drawing follows what made a real face detector (MTCNN) find such faces, see
MODELS.md: dark soft eye sockets, a thick upper-lid line, white eyes and dark brows;
the hairline at rule-of-thirds height; light patches on forehead, nose and cheekbones.
:func:`draw_head` returns the portrait without a mask plus the geometry a mask needs;
``demo.photo`` derives the seven photos from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .canvas import Canvas, bezier, ellipse_pts
from .look import Look

WIDTH, HEIGHT = 384, 512


@dataclass(frozen=True)
class Geometry:
    """Landmark heights and the face's half-width profile, in base-image pixels."""

    cx: float
    w: float          # face width
    t: float          # one "third" of the face (hairline-brow-nose-chin)
    skull: float      # top of the skull
    hairline: float
    brow: float
    eye: float
    nose: float
    mouth: float
    chin: float
    jaw: float

    def half_width(self, y: np.ndarray | float) -> np.ndarray:
        """Half the face width at height ``y`` (0 above the skull and below the chin)."""
        y = np.asarray(y, np.float64)
        up = np.clip((self.eye - y) / (self.eye - self.skull), 0, 1)
        low = np.clip((y - self.eye) / (self.chin - self.eye), 0, 1)
        top = 0.5 * self.w * np.sqrt(np.clip(1 - up ** 2, 0, 1))
        bottom = 0.5 * self.w * np.clip(1 - low ** self.jaw, 0, 1) ** 0.5
        return np.where(y < self.eye, top, bottom)

    def outline(self, n: int = 64, *, grow: float = 0.0) -> np.ndarray:
        ys = self.skull + (self.chin - self.skull) * (1 - np.cos(np.linspace(0, np.pi, n))) / 2
        hw = self.half_width(ys) + grow
        right = np.stack([self.cx + hw, ys], 1)
        left = np.stack([self.cx - hw, ys], 1)[::-1]
        return np.concatenate([right, left])


@dataclass
class Head:
    """The unmasked portrait: ``under`` (h, w, 3) plus an ``over`` layer (front hair locks)."""

    under: np.ndarray
    over_rgb: np.ndarray | None
    over_a: np.ndarray | None
    geo: Geometry
    look: Look


def geometry(look: Look) -> Geometry:
    w = look.face_w
    t = 0.43 * w
    brow = look.eye_y - 0.3 * t
    hairline = brow - t
    nose = brow + t
    return Geometry(cx=look.cx, w=w, t=t, skull=hairline - 0.62 * t, hairline=hairline, brow=brow,
                    eye=look.eye_y, nose=nose, mouth=nose + 0.38 * t, chin=nose + t, jaw=look.jaw)


def _mix(a, b, k: float) -> np.ndarray:
    return np.asarray(a, np.float32) * (1 - k) + np.asarray(b, np.float32) * k


def hair_colour(look: Look) -> np.ndarray:
    return _mix(look.hair, (0.80, 0.80, 0.78), look.grey)


def draw_head(look: Look, rng: np.random.Generator) -> Head:
    """Draw background, shoulders, neck, face, features and hair for ``look``."""
    g = geometry(look)
    cv = Canvas(_background(look, rng))
    _hair_back(cv, look, g)     # behind the shoulders; the front locks hang over them
    _shoulders(cv, look, g)
    _ears(cv, look, g)
    face = _face(cv, look, g)
    _eyes(cv, look, g, face)
    _nose_mouth(cv, look, g, face)
    _wrinkles(cv, look, g, face)
    _facial_hair(cv, look, g, face, rng)
    _hair_cap(cv, look, g, face, rng)
    over_rgb = over_a = None
    if look.style in ("long", "bob"):
        over_rgb, over_a = _front_locks(look, g, rng)
    return Head(cv.img, over_rgb, over_a, g, look)


def _background(look: Look, rng: np.random.Generator) -> np.ndarray:
    y = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None, None]
    img = np.asarray(look.bg_top, np.float32) * (1 - y) + np.asarray(look.bg_bottom, np.float32) * y
    img = np.repeat(img, WIDTH, axis=1)
    cv = Canvas(np.ascontiguousarray(img))
    for _ in range(look.bg_shapes):
        x0, y0 = rng.uniform(-60, WIDTH - 40), rng.uniform(-60, HEIGHT * 0.6)
        bw, bh = rng.uniform(60, 200), rng.uniform(80, 300)
        box = np.array([[x0, y0], [x0 + bw, y0], [x0 + bw, y0 + bh], [x0, y0 + bh]])
        cv.shade(box, float(rng.uniform(0.7, 1.25)), blur=float(rng.uniform(2, 10)))
    return np.clip(cv.img, 0, 1)


def _shoulders(cv: Canvas, look: Look, g: Geometry) -> None:
    sw = 178 if look.gender == "male" else 150
    top = g.chin + 0.8 * g.t
    cx = g.cx
    half = np.concatenate([
        bezier((cx, top - 6), (cx + 0.45 * sw, top - 8), (cx + 0.85 * sw, top + 10), (cx + sw, top + 70)),
        [[cx + sw + 25, HEIGHT + 10]]])
    shirt = np.concatenate([half, [[cx - sw - 25, HEIGHT + 10]], (half * [-1, 1] + [2 * cx, 0])[::-1]])
    cv.paint(shirt, look.shirt)
    cv.shade(shirt, 0.75, stroke=30, blur=14, clip=cv.coverage(shirt))
    skin = np.asarray(look.skin, np.float32) * 0.86
    nw = 0.3 * g.w
    neck = np.array([[cx - nw, g.nose], [cx + nw, g.nose], [cx + nw * 1.08, top + 6], [cx - nw * 1.08, top + 6]])
    cv.paint(neck, skin)
    if look.neckline == "v":
        cv.paint(np.array([[cx - nw * 1.25, top - 4], [cx + nw * 1.25, top - 4], [cx, top + 0.9 * g.t]]), skin)
    else:
        cv.paint(ellipse_pts(cx, top, nw * 1.2, 0.2 * g.t), skin)
    if look.neckline == "collar":
        col = _mix(look.shirt, (1, 1, 1), 0.35)
        for s in (-1, 1):
            cv.paint(np.array([[cx + s * nw * 1.05, top - 10], [cx + s * 8, top + 0.55 * g.t],
                               [cx + s * nw * 1.9, top + 0.3 * g.t]]), col)
    cv.shade(ellipse_pts(cx, g.chin + 0.12 * g.t, 0.38 * g.w, 0.3 * g.t), 0.62, blur=7)
    if look.wrinkles > 0.7:
        for k in range(2):
            yy = g.chin + (0.45 + 0.2 * k) * g.t
            cv.shade(bezier((cx - nw * 0.8, yy), (cx, yy + 5), (cx + nw * 0.8, yy)), 0.85, stroke=1.5,
                     closed=False, blur=0.8)


def _ears(cv: Canvas, look: Look, g: Geometry) -> None:
    skin = np.asarray(look.skin, np.float32) * 0.93
    ey = (g.brow + g.nose) / 2 + 0.05 * g.t
    for s in (-1, 1):
        ex = g.cx + s * (0.5 * g.w - 1)
        cv.paint(ellipse_pts(ex, ey, 0.085 * g.w, 0.5 * g.t), skin)
        cv.shade(ellipse_pts(ex + s * 2, ey, 0.04 * g.w, 0.3 * g.t), 0.75, blur=2)
        if look.earrings:
            cv.paint(ellipse_pts(ex + s * 2, ey + 0.5 * g.t + 4, 3.5, 3.5), (0.85, 0.7, 0.3))


def _face(cv: Canvas, look: Look, g: Geometry) -> np.ndarray:
    """Fill the face with shading and light patches; return its coverage (the skin clip)."""
    out = g.outline()
    cv.paint(out, look.skin)
    face = cv.coverage(out, blur=0.8)
    dark = float(np.mean(look.skin)) < 0.45
    cv.shade(out, 0.8, stroke=22, blur=11, clip=face)                     # rounder edges
    k = 0.22 if dark else 0.12
    cx, t, w = g.cx, g.t, g.w
    cv.glow(ellipse_pts(cx, g.hairline + 0.55 * t, 0.26 * w, 0.32 * t), k, blur=9, clip=face)   # forehead
    cv.glow(ellipse_pts(cx, (g.eye + g.nose) / 2, 0.05 * w, 0.45 * t), k * 1.2, blur=4, clip=face)  # nose
    for s in (-1, 1):
        cv.glow(ellipse_pts(cx + s * 0.25 * w, g.eye + 0.45 * t, 0.12 * w, 0.16 * t), k, blur=7, clip=face)
    cv.shade(ellipse_pts(cx, g.mouth + 0.55 * t, 0.18 * w, 0.22 * t), 0.93, blur=6, clip=face)
    return face


def _eyes(cv: Canvas, look: Look, g: Geometry, face: np.ndarray) -> None:
    w, t = g.w, g.t
    skin = np.asarray(look.skin, np.float32)
    brow_col = np.minimum(_mix(look.hair, (0.55, 0.55, 0.55), look.grey * 0.5), skin * 0.42)
    line = np.minimum(skin * 0.25, 0.12)
    thick = 8.5 if look.gender == "male" else 6.0
    for s in (-1, 1):
        ex, ey = g.cx + s * 0.21 * w, g.eye
        cv.shade(ellipse_pts(ex, ey - 0.06 * t, 0.15 * w, 0.22 * t), 0.68, blur=5.5, clip=face)   # socket
        cv.shade(ellipse_pts(g.cx + s * 0.1 * w, ey - 0.05 * t, 0.04 * w, 0.16 * t), 0.8, blur=4, clip=face)
        inner, outer = (ex - s * 0.1 * w, ey + 1), (ex + s * 0.105 * w, ey - 1)
        upper = bezier(inner, (ex - s * 0.03 * w, ey - 0.17 * t), (ex + s * 0.06 * w, ey - 0.15 * t), outer)
        lower = bezier(outer, (ex + s * 0.04 * w, ey + 0.1 * t), (ex - s * 0.05 * w, ey + 0.1 * t), inner)
        almond = np.concatenate([upper, lower])
        cv.paint(almond, (0.93, 0.92, 0.9))
        eye_clip = cv.coverage(almond)
        r = 0.048 * w
        cv.paint(ellipse_pts(ex + s * 1, ey - 1, r, r), look.eye_colour, clip=eye_clip)
        cv.paint(ellipse_pts(ex + s * 1, ey - 1, r * 0.45, r * 0.45), (0.03, 0.03, 0.03), clip=eye_clip)
        cv.paint(ellipse_pts(ex - 2, ey - 3, 1.4, 1.4), (1, 1, 1), clip=eye_clip)
        cv.shade(upper, 0.82, stroke=2, closed=False, blur=1.0)
        lid = np.concatenate([upper, [[outer[0] + s * 4, outer[1] - 2]]])
        cv.paint(lid, line, stroke=3.4, closed=False)                                      # upper lid
        cv.shade(lower, 0.7, stroke=1.2, closed=False, blur=0.5)
        crease = bezier((inner[0] + s * 2, inner[1] - 0.1 * t), (ex, ey - 0.3 * t), outer)
        cv.shade(crease, 0.78, stroke=1.5, closed=False, blur=1.2, clip=face)
        b0, b1, b2 = (g.cx + s * 0.075 * w, g.brow + 3), (g.cx + s * 0.22 * w, g.brow - 5), (g.cx + s * 0.36 * w, g.brow + 2)
        top_c = bezier(b0, b1, b2)
        bottom_c = bezier(b2, (b1[0], b1[1] + thick * 0.8), (b0[0], b0[1] + thick))
        cv.paint(np.concatenate([top_c, bottom_c]), brow_col, blur=0.9)


def _nose_mouth(cv: Canvas, look: Look, g: Geometry, face: np.ndarray) -> None:
    w, t, cx = g.w, g.t, g.cx
    cv.shade(bezier((cx - 0.06 * w, g.eye), (cx - 0.07 * w, g.nose - 0.4 * t), (cx - 0.09 * w, g.nose - 0.1 * t)),
             0.85, stroke=3, closed=False, blur=2.5, clip=face)
    base = bezier((cx - 0.12 * w, g.nose - 0.12 * t), (cx, g.nose + 0.12 * t), (cx + 0.12 * w, g.nose - 0.12 * t))
    cv.shade(base, 0.65, stroke=2.5, closed=False, blur=1.5)
    for s in (-1, 1):
        cv.paint(ellipse_pts(cx + s * 0.045 * w, g.nose - 0.02 * t, 0.03 * w, 0.04 * t, angle=s * 20),
                 np.asarray(look.skin, np.float32) * 0.35, blur=0.8)
        cv.shade(ellipse_pts(cx + s * 0.1 * w, g.nose - 0.13 * t, 0.03 * w, 0.12 * t), 0.8, blur=2.5)
    cv.glow(ellipse_pts(cx, g.nose - 0.15 * t, 0.035 * w, 0.06 * t), 0.25, blur=2.5)
    cv.shade(ellipse_pts(cx, g.nose + 0.1 * t, 0.08 * w, 0.06 * t), 0.85, blur=3)
    mw = (0.19 if look.gender == "male" else 0.175) * w
    my = g.mouth
    lip = _mix(look.skin, look.lips, 0.55)
    upper = np.concatenate([
        bezier((cx - mw, my), (cx - 0.5 * mw, my - 0.14 * t), (cx - 0.12 * mw, my - 0.16 * t), (cx, my - 0.1 * t)),
        bezier((cx, my - 0.1 * t), (cx + 0.12 * mw, my - 0.16 * t), (cx + 0.5 * mw, my - 0.14 * t), (cx + mw, my)),
        bezier((cx + mw, my), (cx, my + 0.02 * t), (cx - mw, my))])
    full = 0.2 if look.gender == "female" else 0.15
    lower = np.concatenate([bezier((cx - mw, my), (cx, my + 0.02 * t), (cx + mw, my)),
                            bezier((cx + mw, my), (cx + 0.5 * mw, my + full * 1.5 * t), (cx - 0.5 * mw, my + full * 1.5 * t),
                                   (cx - mw, my))])
    cv.paint(upper, lip * 0.92, blur=0.7)
    cv.paint(lower, lip, blur=0.7)
    cv.glow(ellipse_pts(cx, my + full * 0.6 * t, 0.4 * mw, 0.05 * t), 0.18, blur=2)
    cv.shade(bezier((cx - mw, my), (cx, my + 0.03 * t), (cx + mw, my)), 0.45, stroke=1.8, closed=False, blur=0.6)
    cv.shade(ellipse_pts(cx, my + full * 1.5 * t + 4, 0.45 * mw, 0.06 * t), 0.85, blur=3, clip=face)


def _wrinkles(cv: Canvas, look: Look, g: Geometry, face: np.ndarray) -> None:
    k = look.wrinkles
    if k <= 0:
        return
    w, t, cx = g.w, g.t, g.cx
    n = 1 if k < 0.4 else 2 if k < 0.6 else 3
    for i in range(n):
        y = g.brow - (0.3 + 0.2 * i) * t
        half = (0.2 + 0.03 * i) * w
        cv.shade(bezier((cx - half, y + 3), (cx, y - 4), (cx + half, y + 3)), 1 - 0.35 * k, stroke=1.6,
                 closed=False, blur=0.7, clip=face)
    for s in (-1, 1):
        ex = g.cx + s * 0.21 * w
        cv.shade(bezier((ex - s * 0.07 * w, g.eye + 0.18 * t), (ex, g.eye + 0.28 * t), (ex + s * 0.08 * w, g.eye + 0.14 * t)),
                 1 - 0.25 * k, stroke=1.4, closed=False, blur=0.8, clip=face)              # under-eye
        cv.shade(bezier((cx + s * 0.13 * w, g.nose - 0.1 * t), (cx + s * 0.2 * w, g.nose + 0.25 * t),
                        (cx + s * 0.21 * w, g.mouth + 0.05 * t)), 1 - 0.4 * k, stroke=2, closed=False, blur=1.2, clip=face)
        if k >= 0.7:
            ox = g.cx + s * 0.33 * w
            for a in (-0.12, 0.0, 0.12):
                cv.shade(np.array([[ox, g.eye + a * t * 0.5], [ox + s * 0.07 * w, g.eye + a * t * 1.6]]), 0.72,
                         stroke=1.3, closed=False, blur=0.6, clip=face)                    # crow's feet
            cv.shade(bezier((cx + s * 0.2 * w, g.mouth + 0.1 * t), (cx + s * 0.22 * w, g.mouth + 0.4 * t),
                            (cx + s * 0.2 * w, g.chin - 0.15 * t)), 0.78, stroke=1.6, closed=False, blur=1, clip=face)


def _facial_hair(cv: Canvas, look: Look, g: Geometry, face: np.ndarray, rng: np.random.Generator) -> None:
    if look.facial_hair == "none":
        return
    col = hair_colour(look) * 0.85
    w, t, cx = g.w, g.t, g.cx
    if look.facial_hair in ("stubble", "beard"):
        ys = np.linspace(g.nose, g.chin, 20)
        hw = g.half_width(ys) - 1
        jaw = np.concatenate([np.stack([g.cx + hw, ys], 1), np.stack([g.cx - hw, ys], 1)[::-1]])
        region = cv.coverage(jaw, blur=3) * face
        # keep the cheeks and the mouth bare: a beard along the jaw and on the chin, never a "mask"
        keep = np.maximum(cv.coverage(ellipse_pts(cx, g.nose + 0.2 * t, 0.36 * w, 0.55 * t), blur=5) * 0.9,
                          cv.coverage(ellipse_pts(cx, g.mouth + 0.02 * t, 0.2 * w, 0.13 * t), blur=2))
        if look.facial_hair == "stubble":
            tex = rng.uniform(0.0, 1.0, region.shape).astype(np.float32) * 0.4
        else:
            tex = rng.uniform(0.3, 0.8, region.shape).astype(np.float32)
        a = (region * (1 - keep) * tex)[..., None]
        cv.img += (col - cv.img) * a
    if look.facial_hair in ("moustache", "beard"):
        my = g.mouth
        must = np.concatenate([bezier((cx - 0.23 * w, my + 0.05 * t), (cx - 0.12 * w, my - 0.35 * t), (cx, my - 0.32 * t)),
                               bezier((cx, my - 0.32 * t), (cx + 0.12 * w, my - 0.35 * t), (cx + 0.23 * w, my + 0.05 * t)),
                               bezier((cx + 0.23 * w, my + 0.05 * t), (cx, my - 0.18 * t), (cx - 0.23 * w, my + 0.05 * t))])
        cv.paint(must, col, blur=1.2, opacity=0.92)


def _hair_outer(g: Geometry, look: Look, start: float, end: float, extra: float = 0.0) -> np.ndarray:
    v = look.volume + extra
    return ellipse_pts(g.cx, g.eye - 0.05 * g.t, 0.5 * g.w + 0.6 * v, g.eye - g.skull + v, start=start, end=end, n=40)


def _hair_back(cv: Canvas, look: Look, g: Geometry) -> None:
    col = hair_colour(look) * 0.85
    if look.style == "bun":
        cv.paint(ellipse_pts(g.cx, g.skull - look.volume - 0.1 * g.t, 0.32 * g.t, 0.28 * g.t), col)
    if look.style not in ("long", "bob"):
        return
    bottom = g.chin + (1.6 * g.t if look.style == "long" else 0.05 * g.t)
    spread = 26 if look.style == "long" else 10
    top = _hair_outer(g, look, 170, 370, extra=3)
    xr, xl = top[-1, 0] + spread, top[0, 0] - spread
    poly = np.concatenate([top, [[xr, bottom - 20], [g.cx + 0.3 * g.w, bottom], [g.cx - 0.3 * g.w, bottom],
                                 [xl, bottom - 20]]])
    cv.paint(poly, col)


def _hair_cap(cv: Canvas, look: Look, g: Geometry, face: np.ndarray, rng: np.random.Generator) -> None:
    col = hair_colour(look)
    w, t, cx = g.w, g.t, g.cx
    r = look.recede
    hl = g.hairline - r * 0.35 * t
    side_y = g.eye - (0.05 if look.gender == "male" else 0.25) * t
    sx = g.half_width(side_y)
    corner_y = g.hairline + 0.1 * t - r * 0.55 * t
    inner = np.concatenate([
        bezier((cx + sx - 1, side_y), (cx + 0.42 * w, g.brow - 0.2 * t), (cx + 0.34 * w, corner_y)),
        bezier((cx + 0.34 * w, corner_y), (cx + 0.2 * w, hl - 0.05 * t), (cx, hl)),
        bezier((cx, hl), (cx - 0.2 * w, hl - 0.05 * t), (cx - 0.34 * w, corner_y)),
        bezier((cx - 0.34 * w, corner_y), (cx - 0.42 * w, g.brow - 0.2 * t), (cx - sx + 1, side_y))])
    outer = _hair_outer(g, look, 180, 360)
    outer = np.concatenate([[[cx - sx - 0.3 * look.volume, side_y]], outer, [[cx + sx + 0.3 * look.volume, side_y]]])
    cap = np.concatenate([outer, inner])
    if r > 0.8:  # bald crown: hair only at the sides and back
        band = 0.09 * w + 0.5 * look.volume
        cap = [np.concatenate([outer[:10], (outer[:10] + (band, 0.3 * band))[::-1]]),
               np.concatenate([outer[-10:], (outer[-10:] + (-band, 0.3 * band))[::-1]])]
        cv.glow(ellipse_pts(cx - 0.1 * w, g.skull + 0.5 * t, 0.2 * w, 0.3 * t), 0.12, blur=8, clip=face)
    cv.shade(inner, 0.72, stroke=7, closed=False, blur=3.5, clip=face)       # shadow under the hairline
    cv.paint(cap, col, blur=0.8)
    hair = cv.coverage(cap)
    _hair_texture(cv, look, g, hair, rng)


def _hair_texture(cv: Canvas, look: Look, g: Geometry, clip: np.ndarray, rng: np.random.Generator) -> None:
    col = hair_colour(look)
    w, t, cx = g.w, g.t, g.cx
    light = np.clip(col * 1.35 + 0.05, 0, 1)
    for _ in range(34):
        x0 = cx + rng.uniform(-0.15, 0.15) * w
        s = rng.choice([-1, 1])
        end = (cx + s * rng.uniform(0.3, 0.6) * w, g.brow + rng.uniform(-0.6, 0.2) * t)
        strand = bezier((x0, g.skull - look.volume * 0.5), (x0 + s * 0.3 * w, g.skull - 0.1 * t), end)
        c = light if rng.random() < 0.5 else col * 0.6
        if look.grey > 0.05 and rng.random() < look.grey:
            c = np.array([0.9, 0.9, 0.88], np.float32)
        cv.paint(strand, c, stroke=1.2, closed=False, opacity=0.22, blur=0.5, clip=clip)
    cv.glow(ellipse_pts(cx - 0.12 * w, g.skull + 0.05 * t, 0.22 * w, 0.12 * t), 0.1, blur=8, clip=clip)
    if 0.05 < look.grey < 0.5:  # greying temples: the 30-59 cue visible above a mask
        for s in (-1, 1):
            cv.paint(ellipse_pts(cx + s * 0.5 * w, g.brow - 0.3 * t, 0.12 * w, 0.5 * t), (0.85, 0.85, 0.83),
                     opacity=min(1.0, look.grey * 2.2), blur=6, clip=clip)


def _front_locks(look: Look, g: Geometry, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Hair hanging beside the face, drawn over everything (also over a mask's ear loops)."""
    cv = Canvas.blank(HEIGHT, WIDTH, hair_colour(look) * 0.95)
    long = look.style == "long"
    bottom = g.chin + (1.5 * g.t if long else 0.05 * g.t)
    cover = 0.04 * g.w
    polys = []
    for s in (-1, 1):
        ys = np.linspace(g.brow - 0.5 * g.t, g.mouth, 12)
        inner = np.stack([g.cx + s * (g.half_width(ys) - cover), ys], 1)
        top = _hair_outer(g, look, 270 + s * 40, 270 + s * 98, extra=2)[::-1]
        out_x = top[0, 0] + s * (16 if long else 6)
        low_x = g.cx + s * (0.36 * g.w if long else 0.42 * g.w)
        lower = np.concatenate([
            bezier(inner[-1], (low_x, g.chin), (low_x, bottom - 0.2 * g.t)),
            bezier((low_x, bottom - 0.2 * g.t), (low_x + s * 8, bottom + 4), (out_x - s * 4, bottom - 2)),
            bezier((out_x - s * 4, bottom - 2), (out_x + s * 2, g.chin), top[0])])
        polys.append(np.concatenate([inner, lower, top]))
    a = cv.coverage(polys, blur=1.0)
    _hair_texture(cv, look, g, a, rng)
    return cv.img, a
