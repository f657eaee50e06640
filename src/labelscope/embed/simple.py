"""Embedders built from the scan, no model: raw thumbnail pixels and colour histograms.

Both read what the scan cached (``thumbs.parquet``, ``features.parquet``), so they decode no
source image. ``pixels``: each thumbnail resized to 32 x 32 RGB, every pixel standardised over
the dataset, PCA to 64 dimensions (a baseline: it sees layout and colour, not content).
``colour``: the scan's 3 x 32-bin RGB histograms as fractions, square-rooted (Hellinger), 96-d.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from .base import EmbedContext

PIXEL_SIDE = 32
PIXEL_DIM = 64
HIST_COLUMNS = ("hist_r", "hist_g", "hist_b")


def available(workspace: Any = None) -> tuple[bool, str]:
    return True, "built from the scan (runs the scan first when the workspace has none)"


def _thumb_pixels(data: bytes) -> np.ndarray | None:
    from PIL import Image

    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im = im.convert("RGB").resize((PIXEL_SIDE, PIXEL_SIDE), Image.BILINEAR)
            return np.asarray(im, dtype=np.float32).reshape(-1)
    except Exception:
        return None


def pixel_vectors(raw: np.ndarray, *, dim: int = PIXEL_DIM, seed: int = 0) -> np.ndarray:
    """[n, 3072] pixels -> [n, min(dim, n)] PCA scores of the standardised pixels."""
    n = raw.shape[0]
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    mu, sd = raw.mean(axis=0), raw.std(axis=0)
    z = (raw - mu) / np.where(sd > 1e-6, sd, 1.0)
    k = max(1, min(dim, n, z.shape[1]))
    from sklearn.decomposition import PCA

    solver = "randomized" if n > 2000 else "full"
    return PCA(n_components=k, svd_solver=solver, random_state=seed).fit_transform(z).astype(np.float32)


def compute_pixels(ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from ..scan import load_thumbs

    thumbs = load_thumbs(ctx.workspace)
    n = len(ctx.image_ids)
    raw = np.zeros((n, PIXEL_SIDE * PIXEL_SIDE * 3), dtype=np.float32)
    ok = np.zeros(n, dtype=bool)
    for k, iid in enumerate(ctx.image_ids):
        v = _thumb_pixels(thumbs.get(iid, b""))
        if v is not None:
            raw[k], ok[k] = v, True
        if ctx.progress and (k % 256 == 255 or k == n - 1):
            ctx.progress(k + 1, n)
    out = np.zeros((n, min(PIXEL_DIM, max(1, int(ok.sum())))), dtype=np.float32)
    if ok.any():
        vec = pixel_vectors(raw[ok])
        out = np.zeros((n, vec.shape[1]), dtype=np.float32)
        out[ok] = vec
    return out, ok, {"input": f"{PIXEL_SIDE}x{PIXEL_SIDE} RGB from scan thumbnails", "pca": int(out.shape[1])}


def colour_vectors(hists: np.ndarray) -> np.ndarray:
    """[n, 3, bins] counts -> [n, 3 * bins] square roots of each channel's fractions."""
    tot = hists.sum(axis=2, keepdims=True)
    frac = hists / np.where(tot > 0, tot, 1)
    return np.sqrt(frac).reshape(len(hists), -1).astype(np.float32)


def compute_colour(ctx: EmbedContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from ..scan import load_features

    df = load_features(ctx.workspace, columns=["error", *HIST_COLUMNS])
    df = df.drop_duplicates("image_id").set_index("image_id")
    n = len(ctx.image_ids)
    bins = 0
    rows: list[np.ndarray | None] = []
    for iid in ctx.image_ids:
        if iid not in df.index or str(df.at[iid, "error"] or ""):
            rows.append(None)
            continue
        h = [np.asarray(df.at[iid, c], dtype=np.float64) for c in HIST_COLUMNS]
        if not h[0].size or len({x.size for x in h}) != 1:
            rows.append(None)
            continue
        bins = h[0].size
        rows.append(np.stack(h))
    ok = np.array([r is not None for r in rows], dtype=bool)
    out = np.zeros((n, 3 * bins if bins else 96), dtype=np.float32)
    if ok.any():
        out[ok] = colour_vectors(np.stack([r for r in rows if r is not None]))
    if ctx.progress:
        ctx.progress(n, n)
    return out, ok, {"input": f"scan RGB histograms, {bins} bins per channel, Hellinger"}
