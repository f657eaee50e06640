"""Fixtures of the issue checks' tests: a mask-layout world whose embeddings encode the truth."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelscope.dataset import Manifest
from labelscope.dataset.mask import AGE_GROUPS, GENDERS, MASKS, derive_columns
from labelscope.embed.base import Embedding

STEMS = ("mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal")
STEM_MASK = ("wear",) * 5 + ("incorrect", "not_wear")
AGES = (20, 45, 70)


def _mask_world(people: int = 40, *, wrong_gender=(), wrong_age=(), swapped=(), seed: int = 0, noise: float = 0.6):
    """(manifest, embedding) where listed people carry a wrong gender / age on file or swapped photos."""
    rng = np.random.default_rng(seed)
    rows, vecs = [], []
    for p in range(people):
        g, a = p % 2, (p // 2) % 3
        given_g = 1 - g if p in wrong_gender else g
        given_a = (a + 1) % 3 if p in wrong_age else a
        pid = f"{p:06d}"
        for k, stem in enumerate(STEMS):
            true_mask = STEM_MASK[k]
            if p in swapped and stem in ("incorrect_mask", "normal"):
                true_mask = "not_wear" if stem == "incorrect_mask" else "incorrect"
            v = np.concatenate([np.eye(3)[MASKS.index(true_mask)] * 3, np.eye(2)[g] * 2, np.eye(3)[a] * 2])
            vecs.append(v + rng.normal(scale=noise, size=v.shape))
            rows.append({"image_id": f"images/{pid}/{stem}.jpg", "group_id": pid, "mask": STEM_MASK[k],
                         "gender": GENDERS[given_g], "age": AGES[given_a], "race": "Asian", "person_path": pid})
    df = derive_columns(pd.DataFrame(rows))
    manifest = Manifest(df, Path("/nonexistent"), "mask", Path("/nonexistent"))
    emb = Embedding("effnet", df["image_id"].tolist(), np.asarray(vecs, dtype=np.float32), {"name": "effnet"})
    assert len(AGE_GROUPS) == 3
    return manifest, emb


@pytest.fixture
def mask_world():
    """``mask_world(people, wrong_gender=, wrong_age=, swapped=)`` -> (manifest, embedding)."""
    return _mask_world
