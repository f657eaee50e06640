"""Image-quality flags from scan features, with thresholds a reviewer can see and change.

>>> from labelscope.eda import QualityThresholds, quality_flags
>>> flags = quality_flags(features, thresholds=QualityThresholds(dark=30))
>>> flags.loc[flags["any"], ["image_id", "reasons"]]

Every flag is a comparison of one scan column with one threshold, so the page can redraw
the flagged set on every slider move without touching an image.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

FLAGS = ("unreadable", "dark", "bright", "low_contrast", "blurry", "tiny", "odd_aspect", "grayscale")
"""Flag names, in the order the page lists them."""

FLAG_HELP = {
    "unreadable": "the scan could not decode the file (its error is listed)",
    "dark": "mean luminance below `dark` (0..255)",
    "bright": "mean luminance above `bright` (0..255)",
    "low_contrast": "standard deviation of luminance below `low_contrast` (0..255)",
    "blurry": "variance of the Laplacian of luminance below `blurry` (full resolution)",
    "tiny": "shorter side below `tiny` pixels",
    "odd_aspect": "width / height above `odd_aspect`, or below its inverse",
    "grayscale": "stored as grayscale, or its RGB channels are equal",
}


@dataclass(frozen=True)
class QualityThresholds:
    """Where each flag starts. Units: luminance 0..255, Laplacian variance, pixels, a ratio.

    Parameters
    ----------
    dark : float, default 40
        Flag images whose mean luminance (``brightness``) is below this.
    bright : float, default 215
        Flag images whose mean luminance is above this.
    low_contrast : float, default 20
        Flag images whose luminance standard deviation (``contrast``) is below this.
    blurry : float, default 30
        Flag images whose Laplacian variance (``sharpness``) is below this.
    tiny : int, default 64
        Flag images whose shorter side is below this many pixels.
    odd_aspect : float, default 2.0
        Flag images with width / height above this or below ``1 / odd_aspect``.
    """

    dark: float = 40.0
    bright: float = 215.0
    low_contrast: float = 20.0
    blurry: float = 30.0
    tiny: int = 64
    odd_aspect: float = 2.0

    def __post_init__(self) -> None:
        if not 0 <= self.dark <= 255 or not 0 <= self.bright <= 255:
            raise ValueError(f"dark and bright must lie in 0..255, got {self.dark} and {self.bright}")
        if self.odd_aspect < 1:
            raise ValueError(f"odd_aspect must be >= 1 (a ratio and its inverse), got {self.odd_aspect}")
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"threshold {f.name} must be >= 0, got {getattr(self, f.name)}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


REQUIRED = ("image_id", "error", "width", "height", "aspect", "brightness", "contrast", "sharpness",
            "is_grayscale")


def quality_flags(features: pd.DataFrame, *, thresholds: QualityThresholds | None = None) -> pd.DataFrame:
    """One boolean column per flag for every scanned image.

    Parameters
    ----------
    features : DataFrame
        The scan's features (``load_features``); needs the columns in ``REQUIRED``.
    thresholds : QualityThresholds, optional
        Defaults to ``QualityThresholds()``.

    Returns
    -------
    DataFrame
        ``image_id``, one bool column per name in ``FLAGS``, ``any`` (at least one flag),
        ``n_flags`` and ``reasons`` (the flag names joined by ", "), plus ``error``, in the
        order of ``features``. An unreadable image carries only the ``unreadable`` flag (its
        pixel features are missing, so nothing else can be said about it).
    """
    t = thresholds or QualityThresholds()
    missing = [c for c in REQUIRED if c not in features.columns]
    if missing:
        raise ValueError(f"features lack column(s) {', '.join(missing)}; rescan the dataset")
    err = features["error"].fillna("").astype(str)
    bad = (err != "").to_numpy()
    ok = ~bad

    def col(name: str) -> np.ndarray:
        return pd.to_numeric(features[name], errors="coerce").to_numpy(dtype=float)

    w, h, aspect = col("width"), col("height"), col("aspect")
    bright, contrast, sharp = col("brightness"), col("contrast"), col("sharpness")
    gray = features["is_grayscale"].fillna(False).astype(bool).to_numpy()
    with np.errstate(invalid="ignore"):
        out = {
            "unreadable": bad,
            "dark": ok & (bright < t.dark),
            "bright": ok & (bright > t.bright),
            "low_contrast": ok & (contrast < t.low_contrast),
            "blurry": ok & (sharp < t.blurry),
            "tiny": ok & (np.fmin(w, h) < t.tiny),
            "odd_aspect": ok & ((aspect > t.odd_aspect) | (aspect < 1.0 / t.odd_aspect)),
            "grayscale": ok & gray,
        }
    df = pd.DataFrame({"image_id": features["image_id"].to_numpy()})
    for name in FLAGS:
        df[name] = out[name]
    mat = df[list(FLAGS)].to_numpy()
    df["n_flags"] = mat.sum(axis=1)
    df["any"] = df["n_flags"] > 0
    names = np.asarray(FLAGS, dtype=object)
    df["reasons"] = [", ".join(names[row]) for row in mat]
    df["error"] = err.to_numpy()
    return df


def flag_counts(flags: pd.DataFrame) -> pd.DataFrame:
    """``flag``, ``images`` and ``share`` for every flag (zero counts included), in FLAGS order."""
    n = max(len(flags), 1)
    counts = [int(flags[f].sum()) for f in FLAGS]
    return pd.DataFrame({"flag": list(FLAGS), "images": counts, "share": [c / n for c in counts]})


def unreadable(features: pd.DataFrame) -> pd.DataFrame:
    """``image_id`` and ``error`` of every image the scan could not decode."""
    err = features["error"].fillna("").astype(str)
    return features.loc[err != "", ["image_id"]].assign(error=err[err != ""]).reset_index(drop=True)
