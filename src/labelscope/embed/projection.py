"""2-D projections of an embedding (PCA, t-SNE, UMAP), cached in the workspace.

A projection is cached in ``<workspace>/embeddings/projections/`` under a key made of the
embedding's name, version and content digest, the method, its parameters and the seed: the
same request reads the file, a new embedding or another parameter computes a new one.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workspace import Workspace, write_parquet
from .base import Embedding

METHODS = ("pca", "tsne", "umap")
PROJECTION_VERSION = "1"
PCA_BEFORE = 50  # t-SNE and UMAP run on the first 50 principal components of wider embeddings


def projection_key(embedding: Embedding, method: str, seed: int, params: dict[str, Any]) -> str:
    blob = json.dumps({"name": embedding.name, "version": embedding.version, "digest": embedding.digest(),
                       "method": method, "seed": seed, "params": params, "v": PROJECTION_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def projection_path(workspace: Any, embedding: Embedding, method: str, seed: int, params: dict[str, Any]) -> Path:
    ws = Workspace.of(workspace)
    safe = re.sub(r"[^A-Za-z0-9_+-]+", "-", embedding.name)[:60]
    return Path(ws.embeddings) / "projections" / f"{safe}-{method}-{projection_key(embedding, method, seed, params)}.parquet"


def _pca(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    k = min(k, x.shape[0], x.shape[1])
    solver = "randomized" if x.shape[0] > 2000 and k < min(x.shape) // 2 else "full"
    out = PCA(n_components=k, svd_solver=solver, random_state=seed).fit_transform(x)
    if out.shape[1] < 2:
        out = np.hstack([out, np.zeros((len(out), 2 - out.shape[1]))])
    return out


def run_projection(x: np.ndarray, method: str, *, seed: int = 0, **params: Any) -> np.ndarray:
    """[n, d] -> [n, 2] (float32). Small inputs fall back to PCA where a method needs more points."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    if n < 3 or x.shape[1] < 1:
        return np.pad(x[:, :2], ((0, 0), (0, max(0, 2 - x[:, :2].shape[1])))).astype(np.float32)
    x = x - x.mean(axis=0)
    if method == "pca":
        return _pca(x, 2, seed)[:, :2].astype(np.float32)
    if x.shape[1] > PCA_BEFORE:
        x = _pca(x, PCA_BEFORE, seed)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(params.get("perplexity", 30.0))
        perplexity = min(perplexity, max(1.0, (n - 1) / 3.0))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                    learning_rate=params.get("learning_rate", "auto"),
                    max_iter=int(params.get("max_iter", 1000)))
        return tsne.fit_transform(x).astype(np.float32)
    if method == "umap":
        if n < 5:
            return _pca(x, 2, seed)[:, :2].astype(np.float32)
        import umap

        reducer = umap.UMAP(n_components=2, n_neighbors=int(min(params.get("n_neighbors", 15), n - 1)),
                            min_dist=float(params.get("min_dist", 0.1)), metric=str(params.get("metric", "euclidean")),
                            random_state=seed, n_jobs=1)  # a seed makes UMAP single-threaded anyway
        return reducer.fit_transform(x).astype(np.float32)
    raise ValueError(f"unknown projection method {method!r}; expected one of {', '.join(METHODS)}")


def cached_projection(embedding: Embedding, method: str = "pca", *, workspace: Any, seed: int = 0,
                      **params: Any) -> pd.DataFrame | None:
    """The cached projection when there is one (never computes); None otherwise."""
    path = projection_path(workspace, embedding, method, seed, params)
    if not path.is_file():
        return None
    try:
        df = pd.read_parquet(path)
    except Exception:  # a damaged cache file counts as absent
        return None
    if len(df) != len(embedding) or list(df.columns[:3]) != ["image_id", "x", "y"]:
        return None
    return df


def project(embedding: Embedding, method: str = "pca", *, workspace: Any = None, seed: int = 0,
            **params: Any) -> pd.DataFrame:
    """2-D map of an embedding: a DataFrame with ``image_id``, ``x``, ``y`` (one row per vector).

    Parameters
    ----------
    embedding : Embedding
    method : {"pca", "tsne", "umap"}, default "pca"
    workspace : path-like or Workspace, optional
        Where to cache the result; None computes without caching.
    seed : int, default 0
        Random state (t-SNE, UMAP, randomized PCA): same inputs, same map.
    **params
        Method options: ``perplexity``, ``max_iter`` (t-SNE); ``n_neighbors``, ``min_dist``,
        ``metric`` (UMAP). They are part of the cache key.
    """
    if method not in METHODS:
        raise ValueError(f"unknown projection method {method!r}; expected one of {', '.join(METHODS)}")
    if workspace is not None:
        hit = cached_projection(embedding, method, workspace=workspace, seed=seed, **params)
        if hit is not None:
            return hit
    path = projection_path(workspace, embedding, method, seed, params) if workspace is not None else None
    xy = run_projection(embedding.vectors, method, seed=seed, **params)
    df = pd.DataFrame({"image_id": embedding.image_ids, "x": xy[:, 0], "y": xy[:, 1]})
    if path is not None:
        write_parquet(df, path)
    return df
