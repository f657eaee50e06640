"""A competition-style eval set beside the demo: ``eval/info.csv`` (``ImageID,ans``, ans 0) and
``eval/images/<hash>.jpg``, of people who are not in train.csv, without label noise.

The truth goes to ``eval_truth.csv`` in the demo's root (``ImageID,ans`` with the class index),
a file the app never reads; score a submission with ``labelscope predict ... --score``.

>>> make_eval_set("data/demo", people=20, seed=0, first_index=200)
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..dataset.mask import GENDERS, STEM_TO_MASK, class_index
from ..workspace import atomic_write
from .make import _AGE_RANGES, _CELL_WEIGHTS, PHOTO_STEMS, DemoPerson, _allocate, _draw_all

EVAL_DIR = "eval"
EVAL_TRUTH = "eval_truth.csv"


def make_eval_set(root: str | os.PathLike[str], *, people: int, seed: int = 0, first_index: int = 0,
                  workers: int | None = None) -> Path:
    """Draw ``people`` new people (indices from ``first_index``: never a train person) into
    ``root/eval``; returns the eval folder. Same arguments, same bytes."""
    root = Path(root).resolve()
    ev = root / EVAL_DIR
    shutil.rmtree(ev, ignore_errors=True)
    rng = np.random.default_rng([seed, 2, people])
    cells = _allocate(people, _CELL_WEIGHTS)[rng.permutation(people)]
    persons = []
    for k, c in enumerate(cells):
        g, a = GENDERS[c // 3], int(c % 3)
        lo, hi = _AGE_RANGES[a]
        age = int(rng.integers(lo, hi + 1))
        race = str(rng.choice(("Asian", "Black", "White", "Latino"), p=[0.4, 0.2, 0.25, 0.15]))
        persons.append(DemoPerson(first_index + k, race, g, age, g, age))
    staging = ev / "_drawing"
    _draw_all(staging, persons, seed, workers, None)
    (ev / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for p in persons:
        for stem in PHOTO_STEMS:
            src = staging / p.image_id(stem)
            name = hashlib.sha1(f"{seed}:{p.index}:{stem}".encode()).hexdigest()[:16] + ".jpg"
            os.replace(src, ev / "images" / name)
            rows.append((name, class_index(STEM_TO_MASK[stem], p.gender, p.age)))
    shutil.rmtree(staging)
    rows.sort()
    truth = pd.DataFrame(rows, columns=["ImageID", "ans"])
    atomic_write(ev / "info.csv", lambda f: truth.assign(ans=0).to_csv(f, index=False))
    atomic_write(root / EVAL_TRUTH, lambda f: truth.to_csv(f, index=False))
    return ev
