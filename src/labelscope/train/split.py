"""Folds grouped by person and stratified by class: a person's photos never straddle folds."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def person_folds(targets: Sequence[int], persons: Sequence[str], *, k: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..k-1) of every sample, from ``StratifiedGroupKFold``.

    Parameters
    ----------
    targets : (N,) class indices, used for stratification.
    persons : (N,) group ids; rows with the same id always land in the same fold. Give each
        image its own id when a dataset has no groups.
    k : int
        Number of folds, at least 2 and at most the number of persons.
    seed : int
        Shuffling seed (same seed, same folds).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(targets, dtype=int)
    groups = np.asarray([str(p) for p in persons], dtype=object)
    n_groups = len(set(groups.tolist()))
    if k < 2:
        raise ValueError(f"--folds must be at least 2 (got {k}): out-of-fold predictions need two folds")
    if n_groups < k:
        raise ValueError(f"{k} folds need at least {k} persons; the labels have {n_groups}")
    folds = np.full(len(y), -1, dtype=int)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    import warnings

    with warnings.catch_warnings():  # "least populated class has only n members" is expected on tiny data
        warnings.simplefilter("ignore", UserWarning)
        for f, (_, val) in enumerate(splitter.split(np.zeros(len(y)), y, groups)):
            folds[val] = f
    return folds
