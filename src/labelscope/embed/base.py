"""The Embedding (ids + float32 matrix + provenance), the embedder contract, and the cache file.

An embedding file is ``<workspace>/embeddings/<name>.npz`` holding ``image_ids`` (str),
``vectors`` (float32 [n, d]), ``fingerprints`` (int64 [n, 2]: file size and mtime in ns of
each image when it was embedded) and ``meta`` (a JSON string). Images that could not be read
are left out of ``image_ids`` and listed in ``meta["missing"]``: no zero rows, so neighbours
and projections never see a fake point.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..workspace import atomic_write

Progress = Callable[[int, int], None]


@dataclass
class Embedding:
    """One feature set: row ``i`` of ``vectors`` belongs to ``image_ids[i]``.

    Attributes
    ----------
    name : str
        The embedder's name (``"effnet"``), or ``"a+b"`` for a combination.
    image_ids : list[str]
        Manifest ids, in row order; unreadable images are absent (see ``meta["missing"]``).
    vectors : ndarray, float32, shape (n, d)
    meta : dict
        ``name``, ``version``, ``dim``, ``created`` (ISO time), ``missing`` (ids left out),
        ``digest`` (of ids and vectors) and what else the embedder recorded.
    """

    name: str
    image_ids: list[str]
    vectors: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image_ids = [str(i) for i in self.image_ids]
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.image_ids):
            raise ValueError(f"embedding {self.name!r}: vectors shape {self.vectors.shape} does not match "
                             f"{len(self.image_ids)} image ids")
        if len(set(self.image_ids)) != len(self.image_ids):
            raise ValueError(f"embedding {self.name!r}: duplicate image ids")

    def __len__(self) -> int:
        return len(self.image_ids)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def version(self) -> str:
        return str(self.meta.get("version", ""))

    @property
    def missing(self) -> list[str]:
        return list(self.meta.get("missing", []))

    def digest(self) -> str:
        """A short hash of ids and vectors: changes whenever the content changes."""
        d = self.meta.get("digest")
        return str(d) if d else content_digest(self.image_ids, self.vectors)

    def subset(self, image_ids: list[str]) -> "Embedding":
        """Rows of ``image_ids`` in that order (ids absent here are skipped)."""
        pos = {i: k for k, i in enumerate(self.image_ids)}
        keep = [pos[i] for i in image_ids if i in pos]
        ids = [self.image_ids[k] for k in keep]
        meta = {**self.meta, "digest": content_digest(ids, self.vectors[keep])}
        return Embedding(self.name, ids, self.vectors[keep], meta)


@dataclass(frozen=True)
class EmbedContext:
    """What an embedder's compute function may use.

    ``image_ids`` are the rows to embed, ``paths`` their files (same order); ``all_ids`` is
    every id in the dataset (whole-dataset embedders such as ``pixels`` fit on all of them).
    """

    image_ids: list[str]
    paths: list[Path]
    workspace: Any  # labelscope.workspace.Workspace
    manifest: Any  # labelscope.dataset.Manifest
    batch_size: int = 32
    threads: int = 2
    progress: Progress | None = None
    device: str = "cpu"


# compute(ctx) -> (vectors float32 [n, d] for ctx.image_ids, ok bool [n], extra meta)
ComputeFn = Callable[[EmbedContext], tuple[np.ndarray, np.ndarray, dict[str, Any]]]
AvailableFn = Callable[..., tuple[bool, str]]


@dataclass(frozen=True)
class EmbedderSpec:
    """One embedder in the registry.

    Attributes
    ----------
    name, title : str
        Registry key and a human title.
    licence : str
        Licence of the weights (and code) it uses; "-" when none.
    dim : int
        Vector length (0 when it depends on the data, e.g. the training model).
    version : str
        Bumped when the vectors would change; part of the cache key.
    available : callable
        ``available(workspace=None) -> (ok, reason)``; never raises, never downloads.
    compute : callable
        ``compute(ctx: EmbedContext) -> (vectors, ok, meta)``.
    incremental : bool
        True when each image's vector depends on that image alone, so a rerun embeds only new
        or changed files; False for embedders fitted on the whole dataset (PCA).
    source : str
        Where the input comes from: "images", "scan" or "predictions".
    token : callable, optional
        ``token(workspace) -> str``: what the vectors depend on besides the image files (the
        scan tables, the face boxes, a training run); a new token recomputes every row.
    encode : callable, optional
        ``encode(images: list[Decoded], ctx) -> float32 [n, dim]``: the vectors of images
        decoded once by the caller (``labelscope.embed.images``), so the face detector and
        several embedders share one decode per image. None for embedders that read the scan
        or a training run.
    uses_faces : bool
        True when ``encode`` uses the face box / landmarks of each ``Decoded``.
    """

    name: str
    title: str
    licence: str
    dim: int
    version: str
    available: AvailableFn
    compute: ComputeFn
    incremental: bool = True
    source: str = "images"
    token: Callable[[Any], str] | None = None
    encode: Callable[..., np.ndarray] | None = None
    uses_faces: bool = False

    def is_available(self, workspace: Any = None) -> tuple[bool, str]:
        try:
            return self.available(workspace)
        except Exception as exc:  # an import error in an optional package is "not available"
            return False, f"{type(exc).__name__}: {exc}"


def content_digest(image_ids: list[str], vectors: np.ndarray) -> str:
    h = hashlib.sha1()
    h.update("\n".join(image_ids).encode("utf-8"))
    h.update(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def file_fingerprints(paths: list[Path]) -> np.ndarray:
    """int64 [n, 2]: (size, mtime_ns) of each file, (-1, -1) where it cannot be stat'ed."""
    from ..workspace import fingerprint

    return np.array([fingerprint(p) for p in paths], dtype=np.int64).reshape(len(paths), 2)


def embedding_path(workspace: Any, name: str) -> Path:
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"invalid embedding name {name!r}")
    return Path(workspace.embeddings) / f"{name}.npz"


def save_embedding(emb: Embedding, path: Path, fingerprints: np.ndarray | None = None) -> Path:
    """Write atomically; ``meta`` gets ``digest`` and ``dim`` filled in."""
    emb.meta["digest"] = content_digest(emb.image_ids, emb.vectors)
    emb.meta["dim"] = emb.dim
    fp = np.full((len(emb), 2), -1, dtype=np.int64) if fingerprints is None else np.asarray(fingerprints, np.int64)
    buf = io.BytesIO()
    np.savez(buf, image_ids=np.asarray(emb.image_ids, dtype=str), vectors=emb.vectors, fingerprints=fp,
             meta=np.asarray(json.dumps(emb.meta, sort_keys=True, default=str)))
    return atomic_write(path, lambda p: p.write_bytes(buf.getvalue()))


def read_embedding(path: Path) -> tuple[Embedding, np.ndarray] | None:
    """(embedding, fingerprints) from a cache file, or None when absent or unreadable."""
    if not Path(path).is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            ids = [str(i) for i in z["image_ids"]]
            emb = Embedding(str(meta.get("name", Path(path).stem)), ids, z["vectors"], meta)
            return emb, z["fingerprints"]
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None
