"""One decode per image for the face boxes and every image embedder; caches stay incremental."""
from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import require
from labelscope.dataset import load_dataset
from labelscope.embed import EMBEDDERS, compute_embeddings, embed_with_faces
from labelscope.faces import detect_faces, load_faces

NAMES = ["nsfw", "agegender"]


@pytest.fixture(autouse=True)
def onnx_embedders():
    for n in NAMES:
        ok, why = EMBEDDERS[n].is_available()
        require(ok, f"embedder {n} unavailable: {why}")


def test_shared_pass_equals_separate_passes_and_is_incremental(demo_copy, tmp_path, monkeypatch):
    m = load_dataset(demo_copy)
    m = m.with_df(m.df.head(21).reset_index(drop=True))  # 3 people, incl. no unreadable file
    from labelscope.embed import shared

    calls: list[str] = []
    real = shared.decode
    monkeypatch.setattr(shared, "decode", lambda p, **kw: calls.append(str(p)) or real(p, **kw))
    r = embed_with_faces(m, tmp_path / "ws", NAMES, threads=2)
    assert len(calls) == len(set(calls)) == 21 and r.decoded == 21  # one decode per image for all three
    assert r.faces.detected == 21 and r.faces.with_face >= 19
    # the same vectors and boxes as detecting and embedding one after another
    detect_faces(m.root, tmp_path / "ws2", manifest=m)
    assert load_faces(tmp_path / "ws")[["x1", "y2"]].equals(load_faces(tmp_path / "ws2")[["x1", "y2"]])
    for e in r.embeddings:
        alone = compute_embeddings(m, tmp_path / "ws2", e.name, threads=2)
        assert alone.image_ids == e.image_ids and np.allclose(alone.vectors, e.vectors, atol=1e-4)
    # a rerun decodes nothing; the cache it made is current for compute_embeddings too
    calls.clear()
    again = embed_with_faces(m, tmp_path / "ws", NAMES, threads=2)
    assert calls == [] and again.decoded == 0 and again.faces.cached == 21
    assert compute_embeddings(m, tmp_path / "ws", "agegender").meta["embedded"] == 0
    # one changed file: only it is decoded again, by every consumer at once
    f = m.root / m.df["image_id"][4]
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = embed_with_faces(m, tmp_path / "ws", NAMES, threads=2)
    assert calls == [str(f)] and third.faces.detected == 1
    assert [e.meta["embedded"] for e in third.embeddings] == [1, 1]
