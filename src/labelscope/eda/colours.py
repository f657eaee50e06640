"""Colour distributions per group: histograms, their distances, and mean images.

>>> feats = load_features(ws)
>>> h = group_histograms(feats, manifest.df, by="mask")            # RGB, from the scan
>>> intersection_distances(h)                                       # 0 = same colours
>>> digest = colour_digest(ws)                                      # once: luminance + tiles
>>> h = group_histograms(feats, manifest.df, by="mask", mode="luma", digest=digest)
>>> means = mean_images(digest, manifest.df, by="mask")             # {group: HxWx3 uint8}

RGB histograms come straight from the scan (``hist_r/g/b``: 32 bins per image). Luminance
histograms and mean images need pixels, so ``colour_digest`` decodes every thumbnail once and
caches a 32-bin luminance histogram and a 32x32 tile per image in the workspace
(``colour_digest.npz``); a page rerun decodes nothing.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Literal

import numpy as np
import pandas as pd

from ..workspace import Workspace, atomic_write, fingerprint

BINS = 32
TILE = 32
"""Side of the per-image tile that mean images average (thumbnails are stretched to it)."""
DIGEST_VERSION = "2"
CHANNELS = {"rgb": ("r", "g", "b"), "luma": ("l",)}
Mode = Literal["rgb", "luma"]




def _join(table: pd.DataFrame, labels: pd.DataFrame, by: str) -> pd.DataFrame:
    if by not in labels.columns:
        raise ValueError(f"cannot group by {by!r}: the labels table has {', '.join(map(str, labels.columns))}")
    lab = labels[["image_id", by]].drop_duplicates("image_id")
    return table.merge(lab, on="image_id", how="inner")


def _stack(cells: np.ndarray) -> np.ndarray:
    """(n, 32) float64 from n cells of 32 counts (one concatenate: no per-cell reshaping)."""
    return np.concatenate(list(cells)).reshape(len(cells), BINS).astype(np.float64) if len(cells) else np.zeros((0, BINS))


def per_image_histograms(features: pd.DataFrame, *, mode: Mode = "rgb",
                         digest: "ColourDigest | None" = None) -> tuple[pd.Series, np.ndarray]:
    """``(image_ids, counts)`` with counts of shape (n, channels, 32), readable images only.

    ``mode="rgb"`` reads the scan's ``hist_r/g/b``; ``mode="luma"`` reads the ``digest``'s
    luminance histograms (``colour_digest``), which must then be given.
    """
    if mode == "luma":
        if digest is None:
            raise ValueError("mode='luma' needs the colour digest (colour_digest(workspace))")
        return pd.Series(digest.image_ids, name="image_id"), digest.hist_l[:, None, :].astype(np.float64)
    if mode != "rgb":
        raise ValueError(f"mode must be 'rgb' or 'luma', got {mode!r}")
    cols = [features[f"hist_{c}"].to_numpy() for c in CHANNELS["rgb"]]
    lens = np.fromiter((0 if c is None else len(c) for c in cols[0]), dtype=np.int64, count=len(cols[0]))
    ok = lens == BINS  # unreadable images have empty (or null) histograms
    counts = np.stack([_stack(c[ok]) for c in cols], axis=1) if ok.any() else np.zeros((0, 3, BINS))
    return features["image_id"][ok].reset_index(drop=True), counts


def _normalised_groups(ids: pd.Series, counts: np.ndarray, labels: pd.DataFrame, by: str,
                       weight: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(groups, share (g, ch, 32), images per group, row of each joined image, its group index)``."""
    joined = _join(pd.DataFrame({"image_id": ids, "_row": np.arange(len(ids))}), labels, by)
    rows = joined["_row"].to_numpy()
    codes, uniq = pd.factorize(joined[by].astype(str), sort=True)
    c = counts[rows]
    if weight == "image":
        c = c / np.maximum(c.sum(axis=2, keepdims=True), 1)
    total = np.zeros((len(uniq), counts.shape[1], BINS))
    if len(codes):
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(uniq)))
        total = np.add.reduceat(c[order], starts, axis=0)  # every group has >= 1 image
    share = total / np.maximum(total.sum(axis=2, keepdims=True), 1e-12)
    return list(uniq), share, np.bincount(codes, minlength=len(uniq)), rows, codes


def group_histograms(features: pd.DataFrame, labels: pd.DataFrame, *, by: str, mode: Mode = "rgb",
                     digest: "ColourDigest | None" = None, weight: Literal["image", "pixel"] = "image") -> pd.DataFrame:
    """Normalised colour histograms of each group of images.

    Parameters
    ----------
    features : DataFrame
        Scan features (``image_id``, ``hist_r/g/b``: 32 counts per image; unreadable images,
        with empty histograms, are left out).
    labels : DataFrame
        ``image_id`` and the column ``by`` (the Manifest's table or today's labels).
    by : str
        The attribute to group by (``mask``, ``gender``, ``age_group``, ``label``...).
    mode : {"rgb", "luma"}
        Per channel (r, g, b) or luminance (l, needs ``digest``).
    weight : {"image", "pixel"}, default "image"
        "image": each image's histogram is normalised first, so every image counts the same;
        "pixel": counts are pooled, so large images weigh more.

    Returns
    -------
    DataFrame
        Long format, one row per (group, channel, bin): ``group``, ``channel``, ``bin``
        (0..31), ``level`` (the bin's lowest 0..255 value), ``share`` (each group's channel
        sums to 1) and ``images`` (images in the group).
    """
    if weight not in ("image", "pixel"):
        raise ValueError(f"weight must be 'image' or 'pixel', got {weight!r}")
    ids, counts = per_image_histograms(features, mode=mode, digest=digest)
    groups, share, sizes, _, _ = _normalised_groups(ids, counts, labels, by, weight)
    return _long(groups, share, sizes, CHANNELS[mode])


def _long(groups: list[str], share: np.ndarray, sizes: np.ndarray, channels: tuple[str, ...]) -> pd.DataFrame:
    g, ch, b = len(groups), len(channels), BINS
    return pd.DataFrame({
        "group": np.repeat(np.asarray(groups, dtype=object), ch * b),
        "channel": np.tile(np.repeat(np.asarray(channels, dtype=object), b), g),
        "bin": np.tile(np.arange(b), g * ch),
        "level": np.tile(np.arange(b) * (256 // b), g * ch),
        "share": share.reshape(-1),
        "images": np.repeat(sizes, ch * b),
    })


def histogram_intersection(p: np.ndarray, q: np.ndarray) -> float:
    """``sum(min(p, q))`` of two normalised histograms (1 = identical, 0 = disjoint)."""
    return float(np.minimum(p, q).sum())


def intersection_distances(hists: pd.DataFrame) -> pd.DataFrame:
    """Square table of ``1 - histogram intersection`` between groups, averaged over channels.

    Parameters
    ----------
    hists : DataFrame
        The output of ``group_histograms``.

    Returns
    -------
    DataFrame
        Groups as index and columns, values in [0, 1]: 0 on the diagonal and between groups
        with the same colour distribution, 1 for groups sharing no bin.
    """
    groups = list(dict.fromkeys(hists["group"]))
    channels = list(dict.fromkeys(hists["channel"]))
    cube = np.zeros((len(groups), len(channels), BINS))
    gi = {g: i for i, g in enumerate(groups)}
    ci = {c: i for i, c in enumerate(channels)}
    cube[hists["group"].map(gi), hists["channel"].map(ci), hists["bin"].astype(int)] = hists["share"]
    inter = np.minimum(cube[:, None], cube[None, :]).sum(axis=3).mean(axis=2)
    dist = np.clip(1.0 - inter, 0.0, 1.0)
    np.fill_diagonal(dist, 0.0)
    return pd.DataFrame(dist, index=pd.Index(groups, name="group"), columns=groups)


def nearest_groups(dist: pd.DataFrame) -> pd.DataFrame:
    """For each group: its closest other group, that distance, and its mean distance to others."""
    d = dist.to_numpy(copy=True)
    n = len(d)
    if n < 2:
        return pd.DataFrame({"group": list(dist.index), "nearest": [""] * n, "distance": [np.nan] * n,
                             "mean_distance": [np.nan] * n})
    np.fill_diagonal(d, np.inf)
    j = d.argmin(axis=1)
    np.fill_diagonal(d, 0.0)
    return pd.DataFrame({"group": list(dist.index), "nearest": [dist.columns[k] for k in j],
                         "distance": d[np.arange(n), j], "mean_distance": d.sum(axis=1) / (n - 1)})


def colour_outliers(features: pd.DataFrame, labels: pd.DataFrame, *, by: str, mode: Mode = "rgb",
                    digest: "ColourDigest | None" = None, weight: Literal["image", "pixel"] = "image") -> pd.DataFrame:
    """Each image's distance from its own group's colour distribution, farthest first.

    Returns
    -------
    DataFrame
        ``image_id``, ``group``, ``distance`` (``1 - intersection`` of the image's normalised
        histogram with its group's, averaged over channels; 0 = typical colours) and
        ``nearest_group`` (the group whose histogram the image matches best).
    """
    ids, counts = per_image_histograms(features, mode=mode, digest=digest)
    groups, share, _, rows, codes = _normalised_groups(ids, counts, labels, by, weight)
    cols = ["image_id", "group", "distance", "nearest_group"]
    if not len(groups):
        return pd.DataFrame(columns=cols)
    p = counts[rows] / np.maximum(counts[rows].sum(axis=2, keepdims=True), 1)
    dist_all = np.stack([1.0 - np.minimum(p, g).sum(axis=2).mean(axis=1) for g in share], axis=1)
    names = np.asarray(groups, dtype=object)
    out = pd.DataFrame({"image_id": ids.to_numpy()[rows], "group": names[codes],
                        "distance": dist_all[np.arange(len(codes)), codes],
                        "nearest_group": names[dist_all.argmin(axis=1)]})
    return out.sort_values("distance", ascending=False, kind="stable").reset_index(drop=True)[cols]


# ---- pixels: luminance and tiles from the thumbnails ---------------------------------------
def thumb_tile(jpeg: bytes, *, size: int = TILE, reduce: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(tile, luma_hist)`` of one thumbnail: a (size, size, 3) uint8 RGB tile (stretched)
    and a 32-bin luminance histogram (Rec.601) of the thumbnail's pixels.

    ``reduce=True`` lets the JPEG decoder skip detail (DCT scaling, at most down to twice
    ``size``): about twice as fast, and the histogram then counts the reduced pixels.
    """
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as im:
        if reduce and im.format == "JPEG":
            im.draft("RGB", (2 * size, 2 * size))
        rgb = im.convert("RGB")
        hist = np.asarray(rgb.convert("L").histogram(), dtype=np.int64).reshape(BINS, -1).sum(axis=1)
        tile = np.asarray(rgb.resize((size, size), Image.BILINEAR, reducing_gap=2.0), dtype=np.uint8)
    return tile, hist


def mean_image(thumbs: Iterable[bytes], *, size: int = TILE) -> np.ndarray:
    """Pixel-wise mean of thumbnails resized to (size, size): a (size, size, 3) uint8 image."""
    tiles = [thumb_tile(b, size=size)[0].astype(np.float64) for b in thumbs]
    if not tiles:
        raise ValueError("mean_image needs at least one thumbnail")
    return np.rint(np.mean(tiles, axis=0)).astype(np.uint8)


@dataclass
class ColourDigest:
    """What colour views need from the pixels, one row per thumbnail.

    ``image_ids`` (n,), ``hist_l`` (n, 32) luminance counts, ``tiles`` (n, 32, 32, 3) uint8.
    """

    image_ids: np.ndarray
    hist_l: np.ndarray
    tiles: np.ndarray

    def __len__(self) -> int:
        return len(self.image_ids)


def digest_path(workspace: str | os.PathLike[str] | Workspace) -> Path:
    ws = Workspace.of(workspace)
    return ws.root / "colour_digest.npz"


def load_digest(workspace: str | os.PathLike[str] | Workspace) -> ColourDigest | None:
    """The cached digest when it matches the current thumbnails, else None (never computes)."""
    ws = Workspace.of(workspace)
    path = digest_path(ws)
    if not path.exists() or not ws.thumbs.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["token"]) != _thumbs_token(ws):
                return None
            return ColourDigest(z["image_ids"], z["hist_l"], z["tiles"])
    except (OSError, KeyError, ValueError):  # damaged: recomputed
        return None


def _thumbs_token(ws: Workspace) -> str:
    size, mtime = fingerprint(ws.thumbs)
    return f"{DIGEST_VERSION}:{size}:{mtime}"


def colour_digest(workspace: str | os.PathLike[str] | Workspace, *, force: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> ColourDigest:
    """Per-image luminance histogram and 32x32 tile from the scan's thumbnails, cached.

    The cache (``colour_digest.npz``, uncompressed NumPy arrays) is reused while the
    thumbnails file is unchanged (same size and modification time); otherwise every thumbnail
    is decoded once again (at reduced size, see ``thumb_tile``). Damaged thumbnails are left out.
    """
    from ..scan import load_thumbs

    ws = Workspace.of(workspace)
    if not ws.thumbs.exists():
        raise FileNotFoundError(f"no thumbnails in {ws.root}: run `labelscope scan` on the dataset first")
    if not force and (cached := load_digest(ws)) is not None:
        return cached
    token = _thumbs_token(ws)
    thumbs = load_thumbs(ws)
    total = len(thumbs)
    ids, hists = [], np.zeros((total, BINS), np.int32)
    tiles = np.zeros((total, TILE, TILE, 3), np.uint8)
    for k, (image_id, jpeg) in enumerate(thumbs.items(), 1):
        try:
            tile, hist = thumb_tile(jpeg, reduce=True)
        except Exception:  # a damaged thumbnail: leave that image out, never stop
            continue
        tiles[len(ids)], hists[len(ids)] = tile, hist
        ids.append(image_id)
        if progress and (k % 500 == 0 or k == total):
            progress(k, total)
    n = len(ids)
    digest = ColourDigest(np.asarray(ids, dtype=str), hists[:n], tiles[:n])

    def write(p: Path) -> None:
        with open(p, "wb") as f:
            np.savez(f, token=np.asarray(token), image_ids=digest.image_ids, hist_l=digest.hist_l, tiles=digest.tiles)

    atomic_write(digest_path(ws), write)
    return digest


def mean_images(digest: ColourDigest, labels: pd.DataFrame, *, by: str) -> dict[str, tuple[np.ndarray, int]]:
    """``{group: (mean image (32, 32, 3) uint8, images)}`` from the digest's tiles, sorted by group."""
    joined = _join(pd.DataFrame({"image_id": digest.image_ids, "_row": np.arange(len(digest))}), labels, by)
    out: dict[str, tuple[np.ndarray, int]] = {}
    for group, rows in joined.groupby(joined[by].astype(str), sort=True):
        tiles = digest.tiles[np.sort(rows["_row"].to_numpy())]
        out[str(group)] = (np.rint(tiles.mean(axis=0, dtype=np.float64)).astype(np.uint8), len(rows))
    return out


__all__ = ["BINS", "TILE", "ColourDigest", "colour_digest", "colour_outliers", "digest_path", "load_digest", "group_histograms", "histogram_intersection", "intersection_distances",
           "mean_image", "mean_images", "nearest_groups", "per_image_histograms", "thumb_tile"]
