"""Face boxes and every image embedder in one pass: one decode per image after the scan.

>>> res = embed_with_faces(manifest, ws, ["nsfw", "agegender"], detector="yunet")
>>> res.faces.detected, [e.name for e in res.embeddings], res.decoded

Each image that some consumer still needs is decoded once (``images.decode``, reduced size,
upright); the face detector runs on it first, and the face-based embedders align inside the
box it just found (or the cached one). Every consumer keeps its own cache and its own
incremental rule (``faces.parquet`` by size, mtime and detector settings; each embedding by
size, mtime and its token), so a rerun decodes only new or changed files. Embedders without an
``encode`` (``pixels``, ``colour``, ``model``) are computed from their own sources afterwards.

Thread budget: the runtimes run one after another on each batch, each with ``threads``
threads (torch ``set_num_threads``, onnxruntime intra-op without spinning, OpenCV
``setNumThreads``), so they never compete for the cores at the same time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..config import SUSPECT_EMBEDDERS
from ..workspace import Workspace
from .base import EmbedContext, Embedding
from .compute import _resolve, compute_embeddings, finish_embedding, plan_embedding, usable_cores
from .images import Decoded, decode, face_hints
from .registry import get_spec

Progress = Callable[[int, int], None]


@dataclass
class SharedResult:
    """What one shared pass did: the face summary (None without a detector), the embeddings in
    the order asked, images decoded, and seconds per consumer."""

    faces: Any
    embeddings: list[Embedding]
    decoded: int
    seconds: dict[str, float] = field(default_factory=dict)


def embed_with_faces(dataset: Any, workspace: Any = None, embedders: Sequence[str] = SUSPECT_EMBEDDERS, *,
                     detector: str | None = "yunet", manifest: Any = None, progress: Progress | None = None,
                     threads: int | None = None, device: str = "cpu", batch_size: int = 32, force: bool = False,
                     max_side: int = 512, detect_side: int | None = None) -> SharedResult:
    """Detect faces and compute the image embedders with one decode per image.

    Parameters
    ----------
    dataset, workspace, manifest
        As for ``compute_embeddings``.
    embedders : names
        Keys of ``EMBEDDERS``; all must be available here (check with ``availability``).
    detector : {"yunet", "mtcnn"} or None, default "yunet"
        The face detector to bring ``faces.parquet`` up to date with; None uses the face
        boxes already cached (face-based embedders align in the whole image without them).
    progress : callable(done, total), optional
        Images of this pass (decoded or failed) out of those any consumer needs.
    threads : int, optional
        Threads for each runtime (default: every usable core).
    device : str, default "cpu"
        "cuda" for the detector and the embedders where their runtime has it.
    batch_size : int, default 32
    force : bool
        Recompute everything.
    max_side : int, default 512
        Decode size (longest side) shared by all consumers.
    detect_side : int, optional
        The face detector's input size (longest side, before its border); default per backend
        (``faces.detectors.DETECT_SIDE``: YuNet 320, MTCNN 512), as ``labelscope faces`` uses,
        so both share one cache.

    Returns
    -------
    SharedResult
    """
    from ..faces.stage import (detect_decoded, detector_token, faces_summary, make_detector, plan_faces,
                               unreadable_row)

    t0 = time.perf_counter()
    manifest, ws = _resolve(dataset, workspace, manifest)
    ws = Workspace.of(ws)
    ws.ensure()
    threads = threads or usable_cores()
    specs = {n: get_spec(n) for n in embedders}
    for n, s in specs.items():
        ok, why = s.is_available(ws)
        if not ok:
            raise RuntimeError(f"embedder {n!r} is not available: {why}")
    image_names = [n for n in embedders if specs[n].encode is not None and specs[n].source == "images"]
    others = [n for n in embedders if n not in image_names]

    from ..faces.detectors import detect_side as default_detect_side

    fplan = None
    detect_side = int(detect_side or (default_detect_side(detector) if detector else max_side))
    if detector:
        fplan = plan_faces(manifest, ws, detector_token(detector, max_side=detect_side), force=force)
    # after this pass every faces row carries the plan's token: the face-based embedders' token
    plans = {n: plan_embedding(manifest, ws, n, force=force,
                               token=fplan.token if (fplan is not None and specs[n].uses_faces) else None)
             for n in image_names}
    need: dict[str, set[str]] = {n: set(p.todo_ids) for n, p in plans.items()}
    face_todo = set(fplan.todo) if fplan is not None else set()
    ids = [str(i) for i in manifest.df["image_id"]]
    wanted = [i for i in ids if i in face_todo or any(i in s for s in need.values())]
    hints = face_hints(ws) if any(specs[n].uses_faces for n in image_names) else {}
    seconds: dict[str, float] = {"decode": 0.0, "faces": 0.0, **{n: 0.0 for n in image_names}}
    new: dict[str, dict[str, np.ndarray]] = {n: {} for n in image_names}
    best_rows: list[dict[str, Any]] = []
    all_rows: list[dict[str, Any]] = []
    det = make_detector(detector, threads=threads, device=device) if detector and face_todo else None
    ctx = EmbedContext(image_ids=[], paths=[], workspace=ws, manifest=manifest, batch_size=batch_size,
                       threads=threads, progress=None, device=device)
    root = manifest.root
    if progress:
        progress(0, len(wanted))
    for start in range(0, len(wanted), max(1, batch_size)):
        chunk = wanted[start:start + batch_size]
        t = time.perf_counter()
        dec: dict[str, Decoded] = {}
        for iid in chunk:
            d = decode(root / iid, max_side=max_side)
            if d is not None:
                dec[iid] = d
            elif iid in face_todo:
                best_rows.append(unreadable_row(iid, "unreadable image (cannot be decoded)"))
        seconds["decode"] += time.perf_counter() - t
        if det is not None:
            t = time.perf_counter()
            items = [(i, (dec[i].rgb, dec[i].size, dec[i].scale)) for i in chunk if i in face_todo and i in dec]
            b, a = detect_decoded(det, items, max_side=detect_side)
            best_rows.extend(b)
            all_rows.extend(a)
            for row in b:
                if row["x1"] == row["x1"]:  # not NaN: this image has a face
                    lm = np.asarray(row["landmarks"], np.float32)
                    dec[row["image_id"]].box = (row["x1"], row["y1"], row["x2"], row["y2"])
                    dec[row["image_id"]].landmarks = lm.reshape(5, 2) if lm.size == 10 else None
                else:
                    hints.pop(row["image_id"], None)
            seconds["faces"] += time.perf_counter() - t
        for iid, d in dec.items():
            h = hints.get(iid)
            if d.box is None and h is not None and iid not in face_todo:
                d.box, d.landmarks = h.box, h.landmarks
        for n in image_names:
            mine = [i for i in chunk if i in need[n] and i in dec]
            if not mine:
                continue
            t = time.perf_counter()
            vecs = specs[n].encode([dec[i] for i in mine], ctx)
            new[n].update({i: vecs[k] for k, i in enumerate(mine)})
            seconds[n] += time.perf_counter() - t
        if progress:
            progress(min(start + batch_size, len(wanted)), len(wanted))

    summary = None
    if fplan is not None:
        best = fplan.save(ws, best_rows, all_rows)
        summary = faces_summary(fplan, best, ws, manifest, seconds=time.perf_counter() - t0,
                                detect_s=seconds["faces"] + seconds["decode"], max_side=detect_side)
    out: dict[str, Embedding] = {}
    for n in image_names:
        emb = finish_embedding(plans[n], ws, new[n], {"pass": "shared decode", "decode_side": max_side})
        if emb is None:  # widths differ from the cache: recompute this one alone
            emb = compute_embeddings(manifest, ws, n, force=True, threads=threads, device=device)
        out[n] = emb
    for n in others:
        t = time.perf_counter()
        out[n] = compute_embeddings(manifest, ws, n, threads=threads, device=device)
        seconds[n] = time.perf_counter() - t
    return SharedResult(summary, [out[n] for n in embedders], len(wanted),
                        {k: round(v, 2) for k, v in seconds.items()})
