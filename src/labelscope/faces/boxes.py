"""Where faces sit: box centre and size per class, the one crop that holds N % of faces, export.

>>> faces = load_faces(ws)
>>> rel = relative_boxes(faces, manifest.df, by="mask")    # boxes as fractions of the image
>>> crop = crop_box(rel, coverage=0.9)                       # CropBox(x1, y1, x2, y2, coverage, n)
>>> export_boxes(faces, "boxes.csv", fallback=crop)          # for training's crop option

Relative coordinates make images of different sizes comparable: (0, 0) is the top-left
corner and (1, 1) the bottom-right one.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..workspace import atomic_write, write_parquet

REL = ["rx1", "ry1", "rx2", "ry2"]


@dataclass(frozen=True)
class CropBox:
    """A crop in relative coordinates (0..1) and the share of face boxes fully inside it."""

    x1: float
    y1: float
    x2: float
    y2: float
    coverage: float
    n: int

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The crop in pixels of a ``width`` x ``height`` image (rounded outwards)."""
        return (int(np.floor(self.x1 * width)), int(np.floor(self.y1 * height)),
                int(np.ceil(self.x2 * width)), int(np.ceil(self.y2 * height)))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def relative_boxes(faces: pd.DataFrame, labels: pd.DataFrame | None = None, *, by: str | None = None) -> pd.DataFrame:
    """Images with a face, their best box as fractions of the image, and its centre and size.

    Parameters
    ----------
    faces : DataFrame
        ``load_faces`` output (``x1..y2`` in pixels, ``width``, ``height``, ``score``).
    labels : DataFrame, optional
        ``image_id`` and the column ``by`` to attach as ``group``.

    Returns
    -------
    DataFrame
        ``image_id``, ``rx1, ry1, rx2, ry2``, ``cx``, ``cy`` (centre), ``w``, ``h`` (size,
        fractions of the image's width and height), ``score``, and ``group`` when ``by`` is given.
    """
    f = faces.dropna(subset=["x1", "y1", "x2", "y2"])
    f = f[pd.to_numeric(f["width"]).fillna(0).gt(0) & pd.to_numeric(f["height"]).fillna(0).gt(0)]
    w = f["width"].astype(float).to_numpy()
    h = f["height"].astype(float).to_numpy()
    out = pd.DataFrame({"image_id": f["image_id"].to_numpy(),
                        "rx1": f["x1"].to_numpy(float) / w, "ry1": f["y1"].to_numpy(float) / h,
                        "rx2": f["x2"].to_numpy(float) / w, "ry2": f["y2"].to_numpy(float) / h,
                        "score": f["score"].to_numpy(float)})
    out[REL] = out[REL].clip(0.0, 1.0)
    out["cx"] = (out["rx1"] + out["rx2"]) / 2
    out["cy"] = (out["ry1"] + out["ry2"]) / 2
    out["w"] = out["rx2"] - out["rx1"]
    out["h"] = out["ry2"] - out["ry1"]
    if by is not None:
        if labels is None or by not in labels.columns:
            raise ValueError(f"cannot group by {by!r}: give a labels table with that column")
        lab = labels[["image_id", by]].drop_duplicates("image_id").rename(columns={by: "group"})
        out = out.merge(lab.assign(group=lab["group"].astype(str)), on="image_id", how="inner")
    return out


def _coverage(rel: np.ndarray, box: np.ndarray) -> float:
    inside = (rel[:, 0] >= box[0]) & (rel[:, 1] >= box[1]) & (rel[:, 2] <= box[2]) & (rel[:, 3] <= box[3])
    return float(inside.mean()) if len(rel) else 0.0


def crop_box(rel: pd.DataFrame, *, coverage: float = 0.9, steps: int = 40) -> CropBox:
    """The smallest quantile box that fully contains the face in at least ``coverage`` of images.

    The box is ``(q-quantile of rx1, q-quantile of ry1, (1-q)-quantile of rx2, (1-q)-quantile
    of ry2)``; ``q`` is the largest value (binary search) whose box still holds ``coverage``
    of the faces. ``q = 0`` (the union of all boxes) always holds them all.

    Parameters
    ----------
    rel : DataFrame
        ``relative_boxes`` output (or any rows of it, e.g. one class).
    coverage : float in (0, 1]
        Wanted share of face boxes fully inside the crop.

    Returns
    -------
    CropBox
        The crop (relative) with its achieved coverage and the number of faces it was fitted on.
        Without faces: the whole image, coverage 0.
    """
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must lie in (0, 1], got {coverage}")
    arr = rel[REL].to_numpy(float)
    if not len(arr):
        return CropBox(0.0, 0.0, 1.0, 1.0, 0.0, 0)

    def box_at(q: float) -> np.ndarray:
        lo = np.quantile(arr[:, :2], q, axis=0)
        hi = np.quantile(arr[:, 2:], 1 - q, axis=0)
        return np.concatenate([lo, hi])

    lo_q, hi_q = 0.0, 0.5
    for _ in range(steps):
        mid = (lo_q + hi_q) / 2
        if _coverage(arr, box_at(mid)) >= coverage:
            lo_q = mid
        else:
            hi_q = mid
    b = box_at(lo_q)
    return CropBox(*(float(v) for v in b), coverage=_coverage(arr, b), n=len(arr))


def box_stats(rel: pd.DataFrame) -> pd.DataFrame:
    """Per group: faces, median and 10-90 % range of centre (cx, cy) and size (w, h)."""
    grouped = rel.groupby("group", sort=True) if "group" in rel.columns else [("all", rel)]
    rows = []
    for group, g in grouped:
        row = {"group": group, "faces": len(g)}
        for c in ("cx", "cy", "w", "h"):
            q = np.quantile(g[c], [0.1, 0.5, 0.9]) if len(g) else [np.nan] * 3
            row.update({f"{c}_p10": q[0], f"{c}_median": q[1], f"{c}_p90": q[2]})
        rows.append(row)
    return pd.DataFrame(rows)


def crop_box_stats(faces: pd.DataFrame, labels: pd.DataFrame | None = None, *, by: str | None = None,
                   coverage: float = 0.9) -> tuple[pd.DataFrame, CropBox, pd.DataFrame]:
    """``(box_stats per group, the overall N % crop, the N % crop per group)``.

    The per-group table has ``group`` plus the ``CropBox`` fields.
    """
    rel = relative_boxes(faces, labels, by=by)
    overall = crop_box(rel, coverage=coverage)
    per = []
    if "group" in rel.columns:
        for group, g in rel.groupby("group", sort=True):
            per.append({"group": group, **crop_box(g, coverage=coverage).to_dict()})
    per_df = pd.DataFrame(per, columns=["group", "x1", "y1", "x2", "y2", "coverage", "n"])
    return box_stats(rel), overall, per_df


EXPORT_COLUMNS = ["image_id", "x1", "y1", "x2", "y2", "score", "source"]


def boxes_table(faces: pd.DataFrame, *, fallback: CropBox | None = None, min_score: float = 0.0) -> pd.DataFrame:
    """One box per image in original pixels: the face (``source="face"``), else ``fallback``.

    Faces scoring below ``min_score`` count as no face. Without a fallback such images get
    NaN boxes and ``source="none"``; with one, the crop scaled to the image (``"fallback"``).
    Unreadable images (no size known) stay ``"none"``.
    """
    f = faces.copy()
    has = f[["x1", "y1", "x2", "y2"]].notna().all(axis=1) & (f["score"].fillna(0) >= min_score)
    out = pd.DataFrame({"image_id": f["image_id"], "score": f["score"].where(has)})
    for c in ("x1", "y1", "x2", "y2"):
        out[c] = f[c].where(has).astype(float)
    out["source"] = np.where(has, "face", "none")
    if fallback is not None:
        w = pd.to_numeric(f["width"]).astype(float)
        h = pd.to_numeric(f["height"]).astype(float)
        use = ~has & w.notna() & h.notna() & (w > 0)
        out.loc[use, "x1"] = fallback.x1 * w[use]
        out.loc[use, "y1"] = fallback.y1 * h[use]
        out.loc[use, "x2"] = fallback.x2 * w[use]
        out.loc[use, "y2"] = fallback.y2 * h[use]
        out.loc[use, "source"] = "fallback"
    return out[EXPORT_COLUMNS].reset_index(drop=True)


def export_boxes(faces: pd.DataFrame, path: str | os.PathLike[str], *, fallback: CropBox | None = None,
                 min_score: float = 0.0) -> Path:
    """Write ``boxes_table`` to ``path`` atomically: CSV (formulas neutralised) or ``.parquet``.

    The Parquet form can be given to training as its face-box file (``--faces PATH``): it has
    the columns ``image_id, x1, y1, x2, y2, score`` that training reads.
    """
    table = boxes_table(faces, fallback=fallback, min_score=min_score)
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return write_parquet(table, path)
    data = boxes_csv(table)
    return atomic_write(path, lambda p: p.write_bytes(data))


def boxes_csv(table: pd.DataFrame) -> bytes:
    """``boxes_table`` output as CSV bytes: pixels to 0.1, scores to 1e-4, empty for missing,
    cells a spreadsheet would run as formulas neutralised."""
    from ..review.export import csv_bytes

    text = table.assign(**{c: table[c].round(1) for c in ("x1", "y1", "x2", "y2")}, score=table["score"].round(4))
    return csv_bytes(text.astype(object).where(text.notna(), ""), EXPORT_COLUMNS)


CHECK_KINDS = ("no face", "several faces", "low score")


def face_counts(faces: pd.DataFrame) -> dict[str, int]:
    """``with_face``, ``no_face`` (readable, none found), ``multi_face`` and ``unreadable`` images
    of a ``faces.parquet`` table: the counts ``FacesSummary`` reports and the Faces page shows."""
    err = faces["error"].fillna("") != ""
    n = faces["n_faces"]
    return {"with_face": int((n > 0).sum()), "no_face": int(((n == 0) & ~err).sum()),
            "multi_face": int((n > 1).sum()), "unreadable": int(err.sum())}


def faces_to_check(faces: pd.DataFrame, kind: str, *, low_score: float = 0.95) -> pd.DataFrame:
    """Readable images with no face, several faces, or a best face scored below ``low_score``."""
    if kind not in CHECK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CHECK_KINDS)}, not {kind!r}")
    readable = faces[faces["error"].fillna("") == ""]
    if kind == "no face":
        return readable[readable["n_faces"] == 0]
    if kind == "several faces":
        return readable[readable["n_faces"] > 1]
    return readable[readable["score"] < low_score]
