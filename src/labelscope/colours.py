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
(``colour_digest.parquet``); a page rerun decodes nothing.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable, Iterable, Literal

import numpy as np
import pandas as pd

from .workspace import Workspace, atomic_write

BINS = 32
TILE = 32
"""Side of the per-image tile that mean images average (thumbnails are stretched to it)."""
DIGEST_VERSION = "1"
CHANNELS = {"rgb": ("r", "g", "b"), "luma": ("l",)}
Mode = Literal["rgb", "luma"]


def digest_path(workspace: str | os.PathLike[str] | Workspace) -> Path:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    return ws.root / "colour_digest.parquet"


def _join(table: pd.DataFrame, labels: pd.DataFrame, by: str) -> pd.DataFrame:
    if by not in labels.columns:
        raise ValueError(f"cannot group by {by!r}: the labels table has {', '.join(map(str, labels.columns))}")
    lab = labels[["image_id", by]].drop_duplicates("image_id")
    return table.merge(lab, on="image_id", how="inner")


def _stack(cells: Iterable) -> np.ndarray:
    arr = [np.asarray(c, dtype=np.float64) for c in cells]
    return np.vstack(arr) if arr else np.zeros((0, BINS))


def per_image_histograms(features: pd.DataFrame, *, mode: Mode = "rgb",
                         digest: pd.DataFrame | None = None) -> tuple[pd.Series, np.ndarray]:
    """``(image_ids, counts)`` with counts of shape (n, channels, 32), readable images only.

    ``mode="rgb"`` reads the scan's ``hist_r/g/b``; ``mode="luma"`` reads ``hist_l`` of the
    ``digest`` (``colour_digest``), which must then be given.
    """
    if mode == "rgb":
        cols = [f"hist_{c}" for c in CHANNELS["rgb"]]
        src = features
    elif mode == "luma":
        if digest is None:
            raise ValueError("mode='luma' needs the colour digest (colour_digest(workspace))")
        cols, src = ["hist_l"], digest
    else:
        raise ValueError(f"mode must be 'rgb' or 'luma', got {mode!r}")
    ok = src[cols[0]].map(lambda c: c is not None and len(c) == BINS).to_numpy(dtype=bool)
    src = src[ok]
    counts = np.stack([_stack(src[c]) for c in cols], axis=1) if len(src) else np.zeros((0, len(cols), BINS))
    return src["image_id"].reset_index(drop=True), counts


def group_histograms(features: pd.DataFrame, labels: pd.DataFrame, *, by: str, mode: Mode = "rgb",
                     digest: pd.DataFrame | None = None, weight: Literal["image", "pixel"] = "image") -> pd.DataFrame:
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
    joined = _join(pd.DataFrame({"image_id": ids, "_row": np.arange(len(ids))}), labels, by)
    channels = CHANNELS[mode]
    out = []
    for group, rows in joined.groupby(by, sort=True, observed=True):
        c = counts[rows["_row"].to_numpy()]
        if weight == "image":
            c = c / np.maximum(c.sum(axis=2, keepdims=True), 1)
        total = c.sum(axis=0)
        share = total / np.maximum(total.sum(axis=1, keepdims=True), 1e-12)
        for k, ch in enumerate(channels):
            out.append(pd.DataFrame({"group": str(group), "channel": ch, "bin": np.arange(BINS),
                                     "level": np.arange(BINS) * (256 // BINS), "share": share[k],
                                     "images": len(rows)}))
    cols = ["group", "channel", "bin", "level", "share", "images"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


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
                    digest: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each image's distance from its own group's colour distribution, farthest first.

    Returns
    -------
    DataFrame
        ``image_id``, ``group``, ``distance`` (``1 - intersection`` of the image's normalised
        histogram with its group's, averaged over channels; 0 = typical colours) and
        ``nearest_group`` (the group whose histogram the image matches best).
    """
    ids, counts = per_image_histograms(features, mode=mode, digest=digest)
    hists = group_histograms(features, labels, by=by, mode=mode, digest=digest)
    cols = ["image_id", "group", "distance", "nearest_group"]
    if not len(hists):
        return pd.DataFrame(columns=cols)
    groups = list(dict.fromkeys(hists["group"]))
    cube = hists["share"].to_numpy().reshape(len(groups), counts.shape[1], BINS)
    joined = _join(pd.DataFrame({"image_id": ids, "_row": np.arange(len(ids))}), labels, by)
    p = counts[joined["_row"].to_numpy()]
    p = p / np.maximum(p.sum(axis=2, keepdims=True), 1)
    dist_all = np.stack([1.0 - np.minimum(p, g).sum(axis=2).mean(axis=1) for g in cube], axis=1)  # (images, groups)
    own = joined[by].astype(str).map({g: k for k, g in enumerate(groups)}).to_numpy()
    out = pd.DataFrame({"image_id": joined["image_id"].to_numpy(), "group": joined[by].astype(str).to_numpy(),
                        "distance": dist_all[np.arange(len(own)), own],
                        "nearest_group": np.asarray(groups, dtype=object)[dist_all.argmin(axis=1)]})
    return out.sort_values("distance", ascending=False, kind="stable").reset_index(drop=True)[cols]


# ---- pixels: luminance and tiles from the thumbnails ---------------------------------------
def thumb_tile(jpeg: bytes, *, size: int = TILE) -> tuple[np.ndarray, np.ndarray]:
    """``(tile, luma_hist)`` of one thumbnail: a (size, size, 3) uint8 RGB tile (stretched)
    and a 32-bin luminance histogram (Rec.601) of the thumbnail's pixels."""
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as im:
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


def colour_digest(workspace: str | os.PathLike[str] | Workspace, *, force: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Per-image luminance histogram and 32x32 tile from the scan's thumbnails, cached.

    The cache (``colour_digest.parquet``) is reused while the thumbnails file is unchanged
    (same size and modification time); otherwise every thumbnail is decoded once again.

    Returns
    -------
    DataFrame
        ``image_id``, ``hist_l`` (32 counts), ``tile`` (32*32*3 bytes, RGB, row-major).
    """
    from .scan import load_thumbs

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    path = digest_path(ws)
    st = ws.thumbs.stat() if ws.thumbs.exists() else None
    if st is None:
        raise FileNotFoundError(f"no thumbnails in {ws.root}: run `labelscope scan` on the dataset first")
    token = f"{DIGEST_VERSION}:{st.st_size}:{st.st_mtime_ns}"
    if path.exists() and not force:
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        if meta.get(b"labelscope.thumbs", b"").decode() == token:
            return pd.read_parquet(path)
    thumbs = load_thumbs(ws)
    ids, hists, tiles = [], [], []
    total = len(thumbs)
    for k, (image_id, jpeg) in enumerate(thumbs.items(), 1):
        try:
            tile, hist = thumb_tile(jpeg)
        except Exception:  # a damaged thumbnail: leave that image out, never stop
            continue
        ids.append(image_id)
        hists.append(hist)
        tiles.append(tile.tobytes())
        if progress and (k % 500 == 0 or k == total):
            progress(k, total)
    df = pd.DataFrame({"image_id": ids, "hist_l": hists, "tile": tiles})
    _write_digest(df, path, token)
    return df


def _write_digest(df: pd.DataFrame, path: Path, token: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"labelscope.thumbs": token.encode()})
    atomic_write(path, lambda p: pq.write_table(table, p))


def mean_images(digest: pd.DataFrame, labels: pd.DataFrame, *, by: str,
                size: int = TILE) -> dict[str, tuple[np.ndarray, int]]:
    """``{group: (mean image (size, size, 3) uint8, images)}`` from the digest's tiles, sorted by group."""
    joined = _join(digest[["image_id", "tile"]], labels, by)
    out: dict[str, tuple[np.ndarray, int]] = {}
    for group, rows in joined.groupby(by, sort=True, observed=True):
        buf = np.frombuffer(b"".join(rows["tile"]), dtype=np.uint8).reshape(len(rows), size, size, 3)
        out[str(group)] = (np.rint(buf.mean(axis=0, dtype=np.float64)).astype(np.uint8), len(rows))
    return out


__all__ = ["BINS", "TILE", "colour_digest", "colour_outliers", "group_histograms", "histogram_intersection", "intersection_distances",
           "mean_image", "mean_images", "nearest_groups", "per_image_histograms", "thumb_tile"]
