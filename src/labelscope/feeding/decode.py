"""Decode options: full decode versus reduced-size JPEG decode versus cached thumbnails.

A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size for a fraction of the work (PIL's
``Image.draft``, OpenCV's ``IMREAD_REDUCED_COLOR_*``); a model that trains at 128 px seldom
needs the full 384x512 photo. Cached scan thumbnails are smaller still (<= 128 px).
"""
from __future__ import annotations

import io
import os
import time
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

DECODE_COLUMNS = ["method", "images", "seconds", "images_per_s", "speedup", "width", "height", "enough_pixels",
                  "note"]
ThumbSource = Callable[[list[str]], Any]


def _pil_full(path: str, target: int) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB").size


def _pil_draft(path: str, target: int) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        if im.format == "JPEG":
            w, h = im.size
            scale = max(1.0, min(w, h) / max(1, target))
            im.draft("RGB", (int(w / scale), int(h / scale)))
        return im.convert("RGB").size


def _cv2_reader(flag_name: str) -> Callable[[str, int], tuple[int, int]]:
    def read(path: str, target: int) -> tuple[int, int]:
        import cv2

        arr = cv2.imread(path, getattr(cv2, flag_name))
        if arr is None:
            raise OSError(f"OpenCV cannot decode {path}")
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
        return int(arr.shape[1]), int(arr.shape[0])

    return read


DECODERS: dict[str, tuple[Callable[[str, int], tuple[int, int]], str]] = {
    "pil_full": (_pil_full, "PIL, whole image (what training does by default)"),
    "pil_draft": (_pil_draft, "PIL with JPEG draft: shrinks by 2/4/8 while the short side stays >= img size"),
    "cv2_full": (_cv2_reader("IMREAD_COLOR"), "OpenCV imread, whole image, BGR->RGB"),
    "cv2_reduced_2": (_cv2_reader("IMREAD_REDUCED_COLOR_2"), "OpenCV IMREAD_REDUCED_COLOR_2 (half size)"),
    "cv2_reduced_4": (_cv2_reader("IMREAD_REDUCED_COLOR_4"), "OpenCV IMREAD_REDUCED_COLOR_4 (quarter size)"),
}


def _decode_thumb(value: Any) -> tuple[int, int]:
    from PIL import Image

    if isinstance(value, (bytes, bytearray, memoryview)):
        with Image.open(io.BytesIO(bytes(value))) as im:
            return im.convert("RGB").size
    if hasattr(value, "shape"):
        return int(value.shape[1]), int(value.shape[0])
    return value.size


def _as_mapping(obj: Any) -> Mapping[str, Any]:
    if isinstance(obj, pd.DataFrame):
        col = "thumb" if "thumb" in obj.columns else obj.columns[-1]
        return dict(zip(obj["image_id"].astype(str), obj[col]))
    return obj


def compare_decoders(
    paths: Sequence[str | os.PathLike[str]],
    *,
    target: int,
    image_ids: Sequence[str] | None = None,
    thumbs: ThumbSource | None = None,
    methods: Sequence[str] | None = None,
    repeats: int = 2,
) -> pd.DataFrame:
    """Images/s of each decode option on the same files (best of ``repeats`` passes).

    Parameters
    ----------
    paths : sequence of paths
        Image files (a sample of the dataset).
    target : int
        The training image size; ``enough_pixels`` says whether an option's output still has
        a short side >= ``target`` (so the model's input is not upsampled).
    image_ids, thumbs : optional
        With both, the cached thumbnails are timed too: ``thumbs(image_ids)`` returns
        ``image_id -> JPEG bytes`` (or a DataFrame with ``image_id`` and ``thumb``), e.g.
        ``lambda ids: labelscope.scan.load_thumbs(workspace, ids)``. The rate is the
        decode from memory (a loader would read the cache once); the read time is in
        ``note``.
    methods : sequence of str, optional
        Subset of ``DECODERS`` (default: all).

    Returns
    -------
    DataFrame
        Columns ``method``, ``images``, ``seconds``, ``images_per_s``, ``speedup`` (versus
        ``pil_full``), ``width`` and ``height`` (median output), ``enough_pixels``, ``note``.
    """
    if not paths:
        raise ValueError("no image files to time the decoders on")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    names = list(methods or DECODERS)
    unknown = [m for m in names if m not in DECODERS]
    if unknown:
        raise ValueError(f"unknown decode method(s) {', '.join(unknown)}; known: {', '.join(DECODERS)}")
    files = [str(p) for p in paths]
    for f in files:  # read once so every method meets the same (warm) page cache
        with open(f, "rb") as fh:
            fh.read()
    rows = []
    for name in names:
        fn, note = DECODERS[name]
        best, sizes, failed = float("inf"), [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            sizes, failed = _decode_all(fn, files, target)
            best = min(best, time.perf_counter() - t0)
        if failed:
            note += f"; {failed} of {len(files)} files could not be decoded"
        rows.append(_row(name, sizes, best, target, note))
    if thumbs is not None and image_ids is not None:
        rows.append(_thumb_row(list(map(str, image_ids)), thumbs, target, repeats))
    df = pd.DataFrame(rows, columns=DECODE_COLUMNS[:4] + DECODE_COLUMNS[5:])
    base = df.loc[df["method"] == "pil_full", "images_per_s"]
    ref = float(base.iloc[0]) if len(base) else float("nan")
    df.insert(4, "speedup", df["images_per_s"] / ref)
    return df[DECODE_COLUMNS]


def _decode_all(fn: Callable[[str, int], tuple[int, int]], files: list[str],
                target: int) -> tuple[list[tuple[int, int]], int]:
    sizes, failed = [], 0
    for f in files:
        try:
            sizes.append(fn(f, target))
        except (OSError, ValueError, SyntaxError):  # PIL raises these on corrupt or truncated files
            failed += 1
    return sizes, failed


def _row(name: str, sizes: list[tuple[int, int]], seconds: float, target: int, note: str) -> dict[str, Any]:
    ws = pd.Series([s[0] for s in sizes], dtype=float)
    hs = pd.Series([s[1] for s in sizes], dtype=float)
    short_ok = bool(len(sizes)) and all(min(w, h) >= target for w, h in sizes)
    n = len(sizes)
    return {"method": name, "images": n, "seconds": seconds,
            "images_per_s": n / max(seconds, 1e-9) if n else 0.0,
            "width": float(ws.median()) if n else float("nan"), "height": float(hs.median()) if n else float("nan"),
            "enough_pixels": short_ok, "note": note}


def _thumb_row(ids: list[str], thumbs: ThumbSource, target: int, repeats: int) -> dict[str, Any]:
    """Decode time of cached thumbnails; reading the cache (once per run) is timed apart, in the note."""
    note = "cached scan thumbnails, decoded from memory"
    try:
        t0 = time.perf_counter()
        got = _as_mapping(thumbs(ids))
        read_s = time.perf_counter() - t0
    except (OSError, ValueError, KeyError) as e:
        return {"method": "thumbnails", "images": 0, "seconds": float("nan"), "images_per_s": float("nan"),
                "width": float("nan"), "height": float("nan"), "enough_pixels": False,
                "note": f"not available: {e}"}
    blobs = [got[i] for i in ids if i in got]
    best, sizes = float("inf"), []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sizes = [_decode_thumb(b) for b in blobs]
        best = min(best, time.perf_counter() - t0)
    note += f"; reading them from the cache took {1000 * read_s:.0f} ms for {len(ids)} ids (once per run)"
    if len(blobs) < len(ids):
        note += f"; {len(ids) - len(blobs)} of {len(ids)} images have no thumbnail"
    return _row("thumbnails", sizes, best, target, note)
