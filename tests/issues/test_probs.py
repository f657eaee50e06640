"""Out-of-sample probabilities: neighbour vote, out-of-fold logistic regression, block scaling."""
from __future__ import annotations

import numpy as np

from labelscope.issues.probs import knn_distance, knn_vote, oof_logistic


def blobs(n_per=60, d=8, seed=0, flip=()):
    rng = np.random.default_rng(seed)
    centres = np.eye(3, d) * 6
    X = np.concatenate([c + rng.normal(size=(n_per, d)) for c in centres])
    y = np.repeat(np.arange(3), n_per)
    noisy = y.copy()
    for i in flip:
        noisy[i] = (y[i] + 1) % 3
    return X.astype(np.float32), y, noisy


def test_knn_vote_sees_through_a_flipped_label():
    X, y, noisy = blobs(flip=[5, 70])
    p = knn_vote(X, noisy, n_classes=3, k=10)
    assert p.shape == (180, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert p[5, y[5]] > 0.9 and p[5, noisy[5]] < 0.1
    assert p[70].argmax() == y[70]


def test_knn_vote_never_counts_the_image_itself_or_its_group():
    X = np.array([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0], [0.05, 0.99]], dtype=np.float32)
    labels = np.array([0, 0, 1, 1])
    p = knn_vote(X, labels, n_classes=2, k=1)
    assert p[0].argmax() == 0  # nearest other image is row 1 (class 0)
    grouped = knn_vote(X, labels, n_classes=2, k=1, groups=np.array(["a", "a", "b", "b"]))
    assert grouped[0].argmax() == 1  # row 1 is in the same group: the next nearest is class 1


def test_oof_logistic_gives_flipped_labels_low_probability_and_picks_c():
    flips = list(range(0, 180, 12))
    X, y, noisy = blobs(flip=flips, seed=1)
    p, c = oof_logistic(X, noisy, n_classes=3, folds=5, Cs=(0.001, 0.1, 10.0))
    assert c in (0.001, 0.1, 10.0)
    given_p = p[np.arange(len(y)), noisy]
    flipped = np.zeros(len(y), bool)
    flipped[flips] = True
    assert given_p[flipped].max() < given_p[~flipped].min() + 0.3
    assert (p.argmax(axis=1) == y).mean() > 0.95


def test_oof_logistic_keeps_groups_within_one_fold():
    X, y, noisy = blobs(n_per=20, seed=2)
    groups = np.repeat(np.arange(12), 5).astype(str)
    p, _ = oof_logistic(X, noisy, n_classes=3, folds=3, groups=groups, Cs=(1.0,))
    assert p.shape == (60, 3) and np.isfinite(p).all()


def test_knn_distance_finds_the_far_point():
    X, _, _ = blobs()
    X = np.vstack([X, -np.ones((1, X.shape[1])) * 50])
    d = knn_distance(X, k=5)
    assert d.argmax() == len(X) - 1
