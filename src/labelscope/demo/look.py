"""What one synthetic person looks like: sampled once from the person's own random generator.

The look carries the cues a classifier should learn: hair style and facial hair for gender;
grey hair, wrinkles and hairline for age (three visibly different age groups); plus skin,
hair, eye, clothing and background colours that vary without meaning anything.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RACES = ("Asian", "Black", "White", "Latino")

# skin tone ranges (light end, dark end), RGB 0-255
_SKIN = {
    "Asian": ((238, 205, 175), (196, 150, 112)),
    "White": ((242, 210, 190), (214, 168, 138)),
    "Latino": ((214, 170, 130), (162, 112, 78)),
    "Black": ((160, 110, 78), (82, 52, 36)),
}
_HAIR = {  # natural hair colours and their weights per race
    "Asian": (((22, 18, 16), 0.6), ((48, 34, 26), 0.35), ((90, 60, 38), 0.05)),
    "Black": (((20, 16, 14), 0.75), ((42, 30, 24), 0.25)),
    "White": (((40, 28, 20), 0.3), ((84, 56, 34), 0.3), ((122, 66, 38), 0.12), ((150, 112, 70), 0.16),
              ((186, 150, 96), 0.12)),
    "Latino": (((24, 18, 16), 0.55), ((52, 36, 26), 0.4), ((96, 64, 40), 0.05)),
}
_EYES = (((62, 40, 26), 0.75), ((36, 26, 20), 0.15), ((70, 100, 130), 0.06), ((80, 100, 60), 0.04))
FEMALE_STYLES = (("long", 0.45), ("bob", 0.27), ("bun", 0.2), ("short", 0.08))
MALE_STYLES = (("short", 0.62), ("crop", 0.32), ("bob", 0.06))


@dataclass(frozen=True)
class Look:
    """Everything fixed about a person's appearance (pose and lighting vary per photo)."""

    gender: str
    age: int
    cx: float               # face centre x
    eye_y: float            # eye line y
    face_w: float           # cheek-to-cheek width, px
    jaw: float              # jaw squareness exponent (2 round ... 3.5 square)
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    grey: float             # 0 = natural colour, 1 = white
    style: str              # long, bob, bun, short, crop
    volume: float           # hair thickness above the skull, px
    recede: float           # 0 = full hairline, 1 = bald crown (older men)
    facial_hair: str        # none, stubble, moustache, beard
    wrinkles: float         # 0 (smooth) .. 1 (deep lines)
    eye_colour: tuple[float, float, float]
    lips: tuple[float, float, float]
    shirt: tuple[float, float, float]
    neckline: str           # round, v, collar
    bg_top: tuple[float, float, float]
    bg_bottom: tuple[float, float, float]
    bg_shapes: int
    mask_colours: tuple[tuple[float, float, float], ...]  # one per worn-mask photo (5)
    incorrect_place: str    # "nose" (below the nose) or "chin"
    earrings: bool


def _pick(rng: np.random.Generator, options: tuple) -> object:
    vals = [o for o, _ in options]
    w = np.array([p for _, p in options], np.float64)
    return vals[int(rng.choice(len(vals), p=w / w.sum()))]


def _rgb(c, jitter: float = 0.0, rng: np.random.Generator | None = None) -> tuple[float, float, float]:
    a = np.asarray(c, np.float64) / 255.0
    if jitter and rng is not None:
        a = a * (1.0 + rng.uniform(-jitter, jitter, 3))
    return tuple(float(v) for v in np.clip(a, 0.0, 1.0))


def grey_amount(age: int, rng: np.random.Generator) -> float:
    """Hair greyness by age group: none under 30, salt-and-pepper at 30-59, grey-white at 60+."""
    if age < 30:
        return 0.0
    if age < 60:
        return float(np.clip((age - 36) / 24 * 0.3 + rng.uniform(-0.04, 0.04), 0.0, 0.32))
    return float(np.clip(0.68 + (age - 60) / 20 * 0.3 + rng.uniform(-0.05, 0.05), 0.6, 1.0))


def wrinkle_amount(age: int) -> float:
    """0 under 30; 0.3-0.5 for 30-59; 0.75-1 for 60 and over."""
    if age < 30:
        return 0.0
    if age < 60:
        return 0.3 + 0.2 * (age - 30) / 29
    return min(1.0, 0.75 + (age - 60) / 60)


_MASKS = ((236, 238, 240), (150, 190, 222), (120, 170, 215), (30, 30, 34), (70, 74, 82),
          (40, 52, 90), (200, 200, 205), (104, 150, 120), (228, 200, 205))
_MASK_W = np.array([0.22, 0.2, 0.12, 0.14, 0.08, 0.08, 0.08, 0.05, 0.03])


def _muted(rng: np.random.Generator) -> np.ndarray:
    """A clothing colour: a random hue at modest saturation (0-255 RGB)."""
    hue = rng.uniform(0, 1) * 6
    sat, val = rng.uniform(0.15, 0.6), rng.uniform(60, 230)
    ramp = np.clip(np.abs((hue - np.array([3.0, 1.0, 5.0])) % 6 - 3) - 1, 0, 1)   # hue -> RGB in [0, 1]
    return val * (1 - sat + sat * ramp)


def sample_look(rng: np.random.Generator, gender: str, age: int, race: str) -> Look:
    """Draw a person's look from their generator; ``gender``/``age`` are the *true* values."""
    male = gender == "male"
    light, dark = (np.asarray(c, np.float64) for c in _SKIN[race])
    skin = _rgb(light + (dark - light) * rng.uniform(0, 1), 0.03, rng)
    hair = _rgb(_pick(rng, _HAIR[race]), 0.06, rng)
    style = str(_pick(rng, MALE_STYLES if male else FEMALE_STYLES))
    recede = 0.0
    if male and age >= 40:
        recede = float(np.clip(rng.uniform(0.0, 0.5) + (0.45 if age >= 60 else 0.0), 0, 1)) \
            if rng.random() < (0.65 if age >= 60 else 0.3) else 0.0
    facial = "none"
    if male and rng.random() < 0.45:
        facial = str(_pick(rng, (("stubble", 0.35), ("moustache", 0.25), ("beard", 0.4))))
    mask_base = int(rng.choice(len(_MASKS), p=_MASK_W / _MASK_W.sum()))
    mask_cols = []
    for _ in range(5):
        k = mask_base if rng.random() < 0.6 else int(rng.choice(len(_MASKS), p=_MASK_W / _MASK_W.sum()))
        mask_cols.append(_rgb(_MASKS[k], 0.05, rng))
    bg = rng.uniform(0.25, 0.85, 3) * rng.uniform(0.7, 1.0)
    bg_top = tuple(float(v) for v in np.clip(bg * rng.uniform(0.9, 1.15), 0, 1))
    bg_bottom = tuple(float(v) for v in np.clip(bg * rng.uniform(0.65, 0.95), 0, 1))
    shirt = _rgb(_muted(rng))
    face_w = rng.uniform(146, 166) if male else rng.uniform(140, 158)
    return Look(
        gender=gender, age=age, cx=192 + rng.uniform(-8, 8), eye_y=218 + rng.uniform(-10, 10),
        face_w=float(face_w), jaw=float(rng.uniform(2.8, 3.6) if male else rng.uniform(2.0, 2.6)),
        skin=skin, hair=hair, grey=grey_amount(age, rng), style=style,
        volume=float(rng.uniform(6, 12) if style in ("short", "crop") else rng.uniform(10, 18)),
        recede=recede, facial_hair=facial, wrinkles=wrinkle_amount(age),
        eye_colour=_rgb(_pick(rng, _EYES) if race == "White" else _EYES[0][0], 0.08, rng),
        lips=_rgb((170, 80, 80) if not male else (150, 90, 80), 0.08, rng), shirt=shirt,
        neckline=str(rng.choice(["round", "v", "collar"])), bg_top=bg_top, bg_bottom=bg_bottom,
        bg_shapes=int(rng.integers(0, 4)), mask_colours=tuple(mask_cols),
        incorrect_place="nose" if rng.random() < 0.5 else "chin",
        earrings=(not male) and rng.random() < 0.35,
    )
