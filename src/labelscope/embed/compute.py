"""Compute, cache, load and combine embeddings.

>>> emb = compute_embeddings("data/demo", name="effnet")      # cached in .labelscope/embeddings/
>>> emb.vectors.shape, emb.missing
>>> both = best_embedding("data/demo")                         # effnet + face, z-scored, concatenated
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..workspace import Workspace
from .base import (EmbedContext, Embedding, Progress, content_digest, embedding_path, file_fingerprints,
                   read_embedding, save_embedding)
from .registry import BEST, EMBEDDERS, FALLBACK, get_spec, source_token


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask), which can be fewer than the machine has."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _resolve(dataset: Any, workspace: Any, manifest: Any) -> tuple[Any, Workspace]:
    """(Manifest, Workspace) from a dataset path or Manifest and an optional workspace."""
    from ..config import default_workspace
    from ..dataset import Manifest, load_dataset

    if isinstance(dataset, Manifest):
        manifest = dataset
    elif manifest is None:
        if dataset is None:
            raise ValueError("give a dataset path or a Manifest")
        manifest = load_dataset(dataset)
    if workspace is None:
        workspace = default_workspace(manifest.source)
    ws = Workspace.of(workspace)
    return manifest, ws


def _ensure_scan(manifest: Any, ws: Workspace) -> None:
    """Bring the scan up to date (it only stats unchanged files and rewrites nothing then)."""
    from ..scan import ScanBusyError, scan_dataset

    try:
        scan_dataset(manifest.source, ws, layout=manifest.layout, manifest=manifest)
    except ScanBusyError:
        if not (ws.has_scan() and ws.thumbs.exists()):
            raise


def load_embeddings(workspace: Any, name: str) -> Embedding | None:
    """The cached embedding ``name`` of a workspace, or None when it was never computed."""
    ws = Workspace.of(workspace)
    got = read_embedding(embedding_path(ws, name))
    return None if got is None else got[0]


@dataclass
class EmbedPlan:
    """What one embedder must do for a dataset: rows to reuse from the cache, rows to embed."""

    name: str
    spec: Any
    ids: list[str]
    paths: list[Path]
    fps: np.ndarray
    token: str
    reuse: dict[str, np.ndarray]
    settled: set[str]
    todo: list[int]
    cached: Embedding | None = None  # the cache as it is, when it is entirely current

    @property
    def todo_ids(self) -> list[str]:
        return [self.ids[k] for k in self.todo]


def plan_embedding(manifest: Any, ws: Workspace, name: str, *, force: bool = False,
                   token: str | None = None) -> EmbedPlan:
    """Compare the cache of embedder ``name`` with the files (size, mtime) and its token.

    ``token``: what the source token will be once the caller has run (the shared pass knows the
    face detector's settings before it writes the face table); default the token as it is now.
    """
    spec = get_spec(name)
    ids = [str(i) for i in manifest.df["image_id"]]
    paths = manifest.paths()
    fps = file_fingerprints(paths)
    token = source_token(spec, ws) if token is None else token
    cached = None if force else read_embedding(embedding_path(ws, name))
    here = {i: tuple(int(v) for v in fps[k]) for k, i in enumerate(ids)}
    reuse: dict[str, np.ndarray] = {}
    settled: set[str] = set()  # unreadable last time and unchanged since: not retried
    if cached is not None:
        old, old_fps = cached
        if old.meta.get("version") == spec.version and old.meta.get("token", "") == token:
            for j, iid in enumerate(old.image_ids):
                fp = here.get(iid)
                if fp is not None and min(fp) >= 0 and fp == tuple(int(v) for v in old_fps[j]):
                    reuse[iid] = old.vectors[j]
            old_missing = old.meta.get("missing_fp", {})
            settled = {i for i in old.missing if i in here and tuple(old_missing.get(i, ())) == here[i]}
            if len(reuse) == len(old) and len(reuse) + len(settled) == len(ids):
                old.meta.update(embedded=0, reused=len(old))  # this call's work: none
                return EmbedPlan(name, spec, ids, paths, fps, token, reuse, settled, [], cached=old)
            if not spec.incremental:  # fitted on the whole dataset: all or nothing
                reuse, settled = {}, set()
    todo = [k for k, i in enumerate(ids) if i not in reuse and i not in settled]
    return EmbedPlan(name, spec, ids, paths, fps, token, reuse, settled, todo)


def finish_embedding(plan: EmbedPlan, ws: Workspace, new: dict[str, np.ndarray],
                     extra: dict[str, Any] | None = None) -> Embedding | None:
    """Merge the new rows with the reused ones, save and return; None when the widths differ."""
    if plan.cached is not None:
        return plan.cached
    dims = {v.shape[0] for v in (*plan.reuse.values(), *new.values())}
    if len(dims) > 1:  # cannot mix (e.g. a model with another width): the caller starts over
        return None
    ids, reuse = plan.ids, plan.reuse
    here = {i: tuple(int(v) for v in plan.fps[k]) for k, i in enumerate(ids)}
    keep = [k for k, i in enumerate(ids) if i in reuse or i in new]
    kept_ids = [ids[k] for k in keep]
    dim = dims.pop() if dims else max(plan.spec.dim, 1)
    mat = np.stack([reuse.get(i, new.get(i)) for i in kept_ids]) if keep else np.zeros((0, dim), np.float32)
    missing = [i for i in ids if i not in reuse and i not in new]
    spec = plan.spec
    meta = {"name": plan.name, "title": spec.title, "version": spec.version, "licence": spec.licence,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "token": plan.token,
            "missing": missing, "missing_fp": {i: list(here[i]) for i in missing},
            "embedded": len(new), "reused": len(reuse), **(extra or {})}
    emb = Embedding(plan.name, kept_ids, mat, meta)
    save_embedding(emb, embedding_path(ws, plan.name), plan.fps[keep] if keep else None)
    return emb


def compute_embeddings(dataset: Any, workspace: Any = None, name: str = "effnet", *, manifest: Any = None,
                       progress: Progress | None = None, force: bool = False, batch_size: int = 32,
                       threads: int | None = None, device: str = "cpu") -> Embedding:
    """Embed every image of a dataset with one embedder; cached in ``<workspace>/embeddings/<name>.npz``.

    Parameters
    ----------
    dataset : path-like or Manifest
        The dataset folder (or CSV file), or an already loaded Manifest.
    workspace : path-like or Workspace, optional
        Default ``.labelscope/`` beside the dataset.
    name : str, default "effnet"
        A key of ``EMBEDDERS``.
    manifest : Manifest, optional
        An already loaded manifest of ``dataset``.
    progress : callable(done, total), optional
        Called as images are embedded (``total`` = images to embed this time).
    force : bool, default False
        Recompute every row even when the cache is current.
    batch_size : int, default 32
        Images per forward pass for the neural embedders.
    threads : int, optional
        CPU threads for the embedder's runtime (torch, onnxruntime, OpenCV; default: every
        core this process may use).
    device : str, default "cpu"
        "cuda" (or "cuda:N") runs torch embedders on the GPU in mixed precision with pinned
        memory, and onnxruntime on its CUDA provider where installed.

    Returns
    -------
    Embedding
        One row per readable image, in manifest order. Images that cannot be read are left
        out and listed in ``meta["missing"]``. Embedders whose vector depends on one image only
        are incremental: a rerun embeds just the new and changed files (by size and mtime).

    Raises
    ------
    ValueError
        Unknown embedder name.
    RuntimeError
        The embedder is not available here (its reason is in the message).
    """
    spec = get_spec(name)
    manifest, ws = _resolve(dataset, workspace, manifest)
    ok_here, reason = spec.is_available(ws)
    if not ok_here:
        raise RuntimeError(f"embedder {name!r} is not available: {reason}")
    if spec.source == "scan":
        _ensure_scan(manifest, ws)
    plan = plan_embedding(manifest, ws, name, force=force)
    if plan.cached is not None:
        if progress:
            progress(0, 0)
        return plan.cached
    ctx = EmbedContext(image_ids=plan.todo_ids, paths=[plan.paths[k] for k in plan.todo], workspace=ws,
                       manifest=manifest, batch_size=batch_size, threads=threads or usable_cores(),
                       progress=progress, device=device)
    extra: dict[str, Any] = {}
    new: dict[str, np.ndarray] = {}
    if plan.todo:
        vecs, ok, extra = spec.compute(ctx)
        new = {ctx.image_ids[k]: vecs[k] for k in np.flatnonzero(ok)}
    elif progress:
        progress(0, 0)
    emb = finish_embedding(plan, ws, new, extra)
    if emb is None:  # cannot mix widths (e.g. a model with another width): start over
        return compute_embeddings(manifest, ws, name, progress=progress, force=True, batch_size=batch_size,
                                  threads=threads, device=device)
    return emb


def combine(embeddings: Sequence[Embedding], *, name: str | None = None) -> Embedding:
    """Concatenate embeddings row-aligned by image id, each z-scored and divided by sqrt(dim).

    Scaling by the square root of each part's width gives every part the same total
    variance, so a 1280-d embedding does not drown a 128-d one. Rows are the ids present in
    every part, in the first part's order; ids missing from some part go to ``meta["missing"]``.
    """
    if not embeddings:
        raise ValueError("combine() needs at least one embedding")
    common = set(embeddings[0].image_ids)
    for e in embeddings[1:]:
        common &= set(e.image_ids)
    ids = [i for i in embeddings[0].image_ids if i in common]
    every = set().union(*(set(e.image_ids) | set(e.missing) for e in embeddings))
    blocks = []
    for e in embeddings:
        x = e.subset(ids).vectors.astype(np.float64)
        sd = x.std(axis=0) if len(x) else np.ones(e.dim)
        z = (x - x.mean(axis=0)) / np.where(sd > 1e-8, sd, 1.0)
        blocks.append(z / np.sqrt(max(e.dim, 1)))
    mat = np.hstack(blocks).astype(np.float32) if blocks else np.zeros((len(ids), 0), np.float32)
    label = name or "+".join(e.name for e in embeddings)
    meta = {"name": label, "version": "+".join(f"{e.name}:{e.version}:{e.digest()}" for e in embeddings),
            "parts": [e.name for e in embeddings], "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "missing": sorted(every - common)}
    meta["digest"] = content_digest(ids, mat)  # computed once: the page keys its caches by it
    return Embedding(label, ids, mat, meta)


def best_embedding(dataset: Any = None, workspace: Any = None, *, names: Sequence[str] | None = None,
                   manifest: Any = None, compute: bool = True, progress: Progress | None = None) -> Embedding | None:
    """The strongest feature set available here, combined (see ``combine``).

    Default parts: EfficientNet-Lite0 and the dlib face descriptor (measured best on real face
    photos for the mask and the gender x age tasks); raw pixels when neither is available.
    With ``compute=False`` only cached embeddings are used (None when there is none).
    """
    if dataset is None and workspace is None and manifest is None:
        raise ValueError("give a dataset, a Manifest or a workspace")
    if dataset is not None or manifest is not None:
        manifest, ws = _resolve(dataset, workspace, manifest)
    else:
        ws = Workspace.of(workspace)
    if names is None:
        names = [n for n in BEST if EMBEDDERS[n].is_available(ws)[0]] or list(FALLBACK)
    parts = []
    for n in names:
        if compute and manifest is not None:
            parts.append(compute_embeddings(manifest, ws, n, progress=progress))
        else:
            e = load_embeddings(ws, n)
            if e is not None:
                parts.append(e)
    return combine(parts) if parts else None


def embedding_files(workspace: Any) -> dict[str, Path]:
    """name -> cache file of every embedding computed in a workspace."""
    ws = Workspace.of(workspace)
    folder = Path(ws.embeddings)
    return {p.stem: p for p in sorted(folder.glob("*.npz"))} if folder.is_dir() else {}
