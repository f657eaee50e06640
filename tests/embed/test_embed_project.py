"""project(): the maps separate what the embedding separates, and are cached by (features, method, params)."""
from __future__ import annotations

import numpy as np
import pytest

import labelscope.embed.projection as proj
from labelscope.embed import Embedding, cached_projection, project
from labelscope.workspace import Workspace


def two_clusters(n: int = 40, dim: int = 60, seed: int = 0) -> Embedding:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    x[: n // 2, :5] += 8.0
    return Embedding("toy", [f"i{k}" for k in range(n)], x, {"version": "1"})


def separated(df) -> bool:
    """Every point is nearer its own cluster's centre than the other one's."""
    a, b = df.iloc[:20][["x", "y"]].to_numpy(), df.iloc[20:][["x", "y"]].to_numpy()
    ca, cb = a.mean(0), b.mean(0)
    near = lambda p, c: np.linalg.norm(p - c, axis=1)  # noqa: E731
    return bool((near(a, ca) < near(a, cb)).all() and (near(b, cb) < near(b, ca)).all())


@pytest.fixture
def runs(monkeypatch):
    calls = []
    real = proj.run_projection

    def wrapped(x, method, **kw):
        calls.append(method)
        return real(x, method, **kw)

    monkeypatch.setattr(proj, "run_projection", wrapped)
    return calls


def test_pca_map_separates_two_clusters_without_caching():
    emb = two_clusters()
    df = project(emb, "pca")
    assert list(df.columns) == ["image_id", "x", "y"] and df["image_id"].tolist() == emb.image_ids
    assert separated(df)


def test_projection_is_read_from_the_workspace_the_second_time(tmp_path, runs):
    ws = Workspace(tmp_path / "ws")
    emb = two_clusters()
    assert cached_projection(emb, "pca", workspace=ws) is None
    first = project(emb, "pca", workspace=ws)
    second = project(emb, "pca", workspace=ws)
    assert runs == ["pca"]
    assert second.equals(first) and cached_projection(emb, "pca", workspace=ws).equals(first)
    project(emb, "pca", workspace=ws, seed=1)  # another seed: another entry
    assert runs == ["pca", "pca"]
    changed = Embedding("toy", emb.image_ids, emb.vectors + 1.0, {"version": "1"})  # same name, new content
    project(changed, "pca", workspace=ws)
    assert runs == ["pca", "pca", "pca"]
    bumped = Embedding("toy", emb.image_ids, emb.vectors, {"version": "2"})
    project(bumped, "pca", workspace=ws)
    assert len(runs) == 4
    assert len(list((ws.embeddings / "projections").glob("toy-pca-*.parquet"))) == 4


def test_tsne_params_are_part_of_the_key(tmp_path, runs):
    ws = Workspace(tmp_path / "ws")
    emb = two_clusters()
    a = project(emb, "tsne", workspace=ws, perplexity=5, max_iter=500)
    assert separated(a) and np.isfinite(a[["x", "y"]].to_numpy()).all()
    project(emb, "tsne", workspace=ws, perplexity=5, max_iter=500)
    assert runs == ["tsne"]
    project(emb, "tsne", workspace=ws, perplexity=8, max_iter=500)
    assert runs == ["tsne", "tsne"]


def test_umap_map_separates_two_clusters(tmp_path):
    df = project(two_clusters(), "umap", workspace=Workspace(tmp_path / "ws"), n_neighbors=8)
    assert len(df) == 40 and separated(df)


def test_tiny_and_bad_inputs():
    one = Embedding("one", ["a"], np.ones((1, 5)), {})
    assert project(one, "tsne")[["x", "y"]].to_numpy().shape == (1, 2)
    with pytest.raises(ValueError, match="unknown projection method 'mds'"):
        project(two_clusters(), "mds")
