"""Out-of-sample class probabilities from embeddings: the label checks' raw material.

Two estimates, both out of sample (an image never votes for itself):

- :func:`oof_logistic`: k-fold logistic regression, folds grouped by person where groups
  exist (a person's other photos would otherwise teach the model that person's wrong label),
  the regularisation ``C`` chosen by out-of-fold log-loss on the noisy labels themselves.
- :func:`knn_vote`: the label shares among an image's ``k`` nearest neighbours (cosine),
  leaving out the image itself and, when ``groups`` is given, the rest of its group.

Measured on real photos (MODELS.md): regularise the classifier, give each embedding
equal weight before concatenating (``labelscope.embed.combine``), use 20 neighbours, not 5.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

DEFAULT_CS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
SMOOTH = 0.5  # pseudo-count per class in the neighbour vote, so no class gets probability 0


def knn_vote(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    n_classes: int,
    k: int = 20,
    groups: np.ndarray | None = None,
    chunk: int = 2048,
) -> np.ndarray:
    """Share of each class among the ``k`` nearest neighbours (cosine), self and group excluded.

    Parameters
    ----------
    X : (n, d) array of embeddings.
    labels : (n,) int array of given class indices in ``[0, n_classes)``.
    n_classes : number of classes.
    k : neighbours per image (fewer when fewer images are eligible).
    groups : optional (n,) array; neighbours from the image's own group are skipped.

    Returns
    -------
    (n, n_classes) float array; rows sum to 1 (a small pseudo-count keeps every class > 0).
    """
    Xn = _unit_rows(X)
    labels = np.asarray(labels, dtype=np.int64)
    n = len(Xn)
    k = max(1, min(k, n - 1))
    probs = np.zeros((n, n_classes), dtype=np.float64)
    g = None
    if groups is not None:  # group codes; -1 = no group (never excluded)
        names = np.asarray(groups).astype(str)
        g = np.where(names == "", -1, np.unique(names, return_inverse=True)[1])
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sims = Xn[start:stop] @ Xn.T
        rows = np.arange(stop - start)
        sims[rows, np.arange(start, stop)] = -np.inf
        if g is not None:
            same = (g[start:stop, None] == g[None, :]) & (g[start:stop, None] >= 0)
            sims[same] = -np.inf
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        ok = np.isfinite(np.take_along_axis(sims, idx, axis=1))
        votes = labels[idx]
        for c in range(n_classes):
            probs[start:stop, c] = ((votes == c) & ok).sum(axis=1)
    probs += SMOOTH / n_classes
    return probs / probs.sum(axis=1, keepdims=True)


def knn_distance(X: np.ndarray, *, k: int = 10, chunk: int = 2048) -> np.ndarray:
    """Mean cosine distance from each row to its ``k`` nearest other rows, shape (n,)."""
    Xn = _unit_rows(X)
    n = len(Xn)
    k = max(1, min(k, n - 1))
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        sims = Xn[start:stop] @ Xn.T
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        out[start:stop] = 1.0 - top.mean(axis=1)
    return out


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Small dense fits run faster on one BLAS thread; on a busy machine 25x faster (measured:
    spinning BLAS threads starve each other). Libraries are loaded first so the limit holds."""
    import scipy.optimize  # noqa: F401
    import sklearn.decomposition  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def prepare_features(X: np.ndarray, *, max_dim: int = 256, seed: int = 0) -> np.ndarray:
    """PCA to at most ``max_dim`` columns, centred, scaled to mean column variance 1 (float32)."""
    from sklearn.decomposition import PCA

    X = np.asarray(X, dtype=np.float32)
    if X.shape[1] > max_dim and len(X) > max_dim:
        with one_blas_thread():
            X = PCA(n_components=max_dim, random_state=seed).fit_transform(X).astype(np.float32)
    X = X - X.mean(axis=0)
    return X * np.sqrt(X.shape[1] / max(float((X ** 2).sum(axis=1).mean()), 1e-12))


def choose_c(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    n_classes: int,
    groups: np.ndarray | None = None,
    Cs: Sequence[float] = DEFAULT_CS,
    folds: int = 3,
    rows: int = 4000,
    seed: int = 0,
) -> tuple[float, float]:
    """The ``C`` with the lowest out-of-fold log-loss on the given (noisy) labels, and that loss.

    No ground truth is needed: too little regularisation learns the flipped labels and loses
    on the held-out folds. Runs on a random sample of at most ``rows`` rows of prepared ``X``
    (:func:`prepare_features`), with ``folds`` folds.
    """
    from sklearn.metrics import log_loss

    y = np.asarray(labels, dtype=np.int64)
    sel = np.arange(len(y))
    if len(y) > rows:
        sel = np.sort(np.random.default_rng(seed).choice(len(y), size=rows, replace=False))
    g = None if groups is None else np.asarray(groups)[sel]
    best = (float(Cs[0]), np.inf)
    with one_blas_thread():
        for c in Cs:
            p = _oof(X[sel], y[sel], n_classes, folds, g, c, seed)
            loss = float(log_loss(y[sel], np.clip(p, 1e-9, 1), labels=np.arange(n_classes)))
            if loss < best[1]:
                best = (float(c), loss)
    return best


def oof_logistic(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    n_classes: int,
    folds: int = 5,
    groups: np.ndarray | None = None,
    Cs: Sequence[float] = DEFAULT_CS,
    C: float | None = None,
    prepared: bool = False,
    max_dim: int = 256,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Out-of-fold logistic-regression probabilities, ``C`` picked by :func:`choose_c` unless given.

    Parameters
    ----------
    X : (n, d) array of embeddings; prepared here (:func:`prepare_features`) unless ``prepared``.
    labels : (n,) int array of given (noisy) class indices.
    n_classes : number of classes (columns of the result).
    folds : number of folds (fewer when a class or the groups are too few).
    groups : optional (n,) array; folds never split a group.
    Cs : inverse regularisation strengths to choose from when ``C`` is None.

    Returns
    -------
    (probs, C): (n, n_classes) out-of-fold probabilities and the ``C`` used.
    """
    y = np.asarray(labels, dtype=np.int64)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but labels has {len(y)}")
    X = X if prepared else prepare_features(X, max_dim=max_dim, seed=seed)
    if C is None:
        C = choose_c(X, y, n_classes=n_classes, groups=groups, Cs=Cs, seed=seed)[0]
    with one_blas_thread():
        return _oof(X, y, n_classes, folds, groups, C, seed), float(C)


def _oof(X, y, n_classes, folds, groups, C, seed) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    out = np.full((len(y), n_classes), 1.0 / n_classes)
    for train, test in _splits(y, folds, groups, seed):
        present = np.unique(y[train])
        if len(present) == 1:
            out[test] = np.eye(n_classes)[present[0]] * 0.9 + 0.1 / n_classes
            continue
        clf = LogisticRegression(C=C, max_iter=300, tol=1e-3)
        clf.fit(X[train], y[train])
        out[np.ix_(test, present)] = clf.predict_proba(X[test])
        if len(present) < n_classes:  # classes absent from this fold's training part
            out[test] = 0.98 * out[test] + 0.02 / n_classes
            out[np.ix_(test, np.setdiff1d(np.arange(n_classes), present))] = 0.02 / n_classes
    return out / out.sum(axis=1, keepdims=True)


def _splits(y: np.ndarray, folds: int, groups, seed: int):
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

    n = len(y)
    if groups is not None:
        g = np.asarray(groups).astype(str)
        g = np.where(g == "", np.char.add("_row", np.arange(n).astype(str)), g)
        n_groups = len(np.unique(g))
        if n_groups >= 2:
            return list(GroupKFold(n_splits=min(folds, n_groups), shuffle=True, random_state=seed).split(y, y, g))
    counts = np.bincount(y)
    smallest = counts[counts > 0].min() if len(counts) else 0
    if smallest >= 2:
        return list(StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True,
                                    random_state=seed).split(y, y))
    return list(KFold(n_splits=max(2, min(folds, n)), shuffle=True, random_state=seed).split(y))


def _unit_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    X = X - X.mean(axis=0) if len(X) > 1 else X
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
