"""Duplicates: exact groups by SHA-1, near groups by pHash distance, differing labels first."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from labelscope.eda import duplicate_pairs, find_duplicates, near_pairs
from labelscope.eda.duplicates import _blocked_pairs


def feats(rows) -> pd.DataFrame:
    """Scan-like features; ``phash`` nullable Int64 built from exact ints (as the scan loads it)."""
    if isinstance(rows, dict):
        rows = list(zip(rows["image_id"], rows["sha1"], rows["phash"].tolist(), [rows["error"]] * len(rows["sha1"])))
    cols = list(zip(*rows))
    return pd.DataFrame({"image_id": list(cols[0]), "sha1": list(cols[1]),
                         "phash": pd.array(list(cols[2]), dtype="Int64"), "error": list(cols[3])})


def test_hashes_stay_exact_next_to_an_unreadable_image():
    # 53-bit float rounding would make these two hashes (1 bit apart, low bit) identical
    f = feats([("a", "s1", 0x1234_5678_1234_5678, ""), ("b", "s2", 0x1234_5678_1234_5679, ""),
               ("u", "s3", None, "not an image")])
    assert find_duplicates(f, max_distance=0).groups.empty
    d = find_duplicates(f, max_distance=1)
    assert d.members["distance"].tolist() == [0, 1]


def test_near_pairs_match_brute_force_for_every_threshold():
    rng = np.random.default_rng(1)
    h = rng.integers(-2**63, 2**63 - 1, 3000, dtype=np.int64)
    for k in range(1, 40):  # plant near copies with 1..6 flipped bits
        bits = rng.choice(64, size=k % 6 + 1, replace=False)
        h[k * 50] = h[k * 50 + 1] ^ np.int64(sum(1 << int(b) for b in bits if b < 63))
    h[2000:2010] = h[7]  # a cluster of identical hashes
    for t in (0, 1, 3, 6, 7, 9):
        i, j, d, truncated = near_pairs(h, max_distance=t)
        bi, bj, bd, _ = _blocked_pairs(h.view(np.uint64), t, 10**7, 128)
        assert not truncated
        assert sorted(zip(i.tolist(), j.tolist(), d.tolist())) == sorted(zip(bi.tolist(), bj.tolist(), bd.tolist()))
        assert (i < j).all() and (d <= t).all()
    with pytest.raises(ValueError):
        near_pairs(h, max_distance=65)


def test_exact_and_near_groups_with_differing_labels_first():
    base = 0x0F0F_0F0F_0F0F_0F0F
    f = feats([
        ("a", "s1", base, ""), ("b", "s1", base, ""),                 # exact, same label
        ("c", "s2", base ^ 0xFF00, ""), ("d", "s2", base ^ 0xFF00, ""),  # exact, labels differ
        ("e", "s3", 0x1234_5678_1234_5678, ""), ("f", "s4", 0x1234_5678_1234_5679, ""),  # near (1 bit), differ
        ("g", "s5", 0x7777_0000_7777_0000, ""), ("h", "s6", 0x7777_0000_7777_0003, ""),  # near (2 bits), same
        ("u", "s9", None, "not an image"),
    ])
    labels = pd.DataFrame({"image_id": list("abcdefghu"), "label": list("xxxyxyzzq")})
    d = find_duplicates(f, labels, max_distance=2)
    g = d.groups
    assert g["labels_differ"].tolist()[:2] == [True, True] and not g["labels_differ"].iloc[2:].any()
    assert g["kind"].tolist()[:2] == ["exact", "near"]  # differing exact before differing near
    assert len(g[g["kind"] == "exact"]) == 2
    near = g[g["kind"] == "near"]
    members = d.members.groupby("group")["image_id"].apply(set)
    assert {frozenset(members[k]) for k in near["group"]} == {frozenset("ef"), frozenset("gh")}
    # a near group made only of exact copies of one file (a, b) is not repeated as near
    assert not any(members[k] == {"a", "b"} for k in near["group"])
    pairs = duplicate_pairs(d)
    assert len(pairs) == 4 and set(pairs.columns) == {"group", "kind", "a", "b", "distance"}
    assert find_duplicates(f, labels, max_distance=0).of_kind("near").groups.empty


def test_skip_same_group_drops_near_pairs_of_one_person():
    f = feats([("p1/a", "s1", 0x10, ""), ("p1/b", "s2", 0x11, ""), ("p2/c", "s3", 0x5555_0000, ""),
               ("p3/d", "s4", 0x5555_0001, "")])
    labels = pd.DataFrame({"image_id": ["p1/a", "p1/b", "p2/c", "p3/d"], "label": ["x", "y", "x", "y"],
                           "group_id": ["p1", "p1", "p2", "p3"]})
    assert len(find_duplicates(f, labels, max_distance=2).groups) == 2
    kept = find_duplicates(f, labels, max_distance=2, skip_same_group=True)
    assert len(kept.groups) == 1 and set(kept.members["image_id"]) == {"p2/c", "p3/d"}


def test_bad_inputs_are_named():
    f = feats([("a", "s", 1, "")])
    with pytest.raises(ValueError, match="'gender'"):
        find_duplicates(f, pd.DataFrame({"image_id": ["a"], "label": ["x"]}), label="gender")
    with pytest.raises(ValueError, match="phash"):
        find_duplicates(f.drop(columns="phash"))
    empty = find_duplicates(f)
    assert empty.groups.empty and empty.members.empty


def test_twenty_thousand_hashes_are_quick():
    rng = np.random.default_rng(0)
    n = 20_000
    h = rng.integers(-2**63, 2**63 - 1, n, dtype=np.int64)
    h[1::1000] = h[0::1000] ^ 1  # 20 near pairs
    f = feats({"image_id": [f"i{k}" for k in range(n)], "sha1": [f"s{k}" for k in range(n)], "phash": h,
               "error": ""})
    t = time.perf_counter()
    d = find_duplicates(f, max_distance=4)
    elapsed = time.perf_counter() - t
    assert len(d.groups) == 20
    assert elapsed < 10, elapsed  # generous: ~0.2 s on an idle core; guards against an O(n^2) Python loop


def test_demo_injected_duplicates_are_all_found(demo_dataset, tmp_path):
    from labelscope.dataset import load_dataset
    from labelscope.scan import load_features, scan_dataset

    ws = tmp_path / "ws"
    scan_dataset(demo_dataset, ws, workers=1)
    m = load_dataset(demo_dataset)
    d = find_duplicates(load_features(ws), m.df, max_distance=4, skip_same_group=True)
    truth = pd.read_csv(demo_dataset / "noise_truth.csv")
    injected = truth[truth["kind"] == "duplicate"]
    assert len(injected)
    exact = d.of_kind("exact")
    groups = exact.members.groupby("group")["image_id"].apply(frozenset)
    for row in injected.itertuples():
        assert frozenset({row.image_id, row.true}) in set(groups), row
    differ = exact.groups[exact.groups["labels_differ"]]
    assert len(differ) >= len(injected) and d.groups["labels_differ"].iloc[0]
