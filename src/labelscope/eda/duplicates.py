"""Exact duplicates (same bytes: SHA-1) and near duplicates (perceptual-hash distance).

>>> dups = find_duplicates(features, manifest.df, max_distance=4)
>>> dups.groups.head()        # groups whose labels differ come first: each is a label problem
>>> dups.members              # one row per image of each group

Near duplicates: multi-index hashing for small thresholds (only hashes sharing an exact
chunk are compared), else every pair in blocks with NumPy's popcount (``np.bitwise_count``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BLOCK = 128
"""Rows compared at once by the blocked scan (a BLOCK x n uint64 matrix stays in cache)."""

MAX_PAIRS = 2_000_000
"""Stop collecting near pairs beyond this many (a distance threshold far too loose)."""

GROUP_COLUMNS = ["group", "kind", "size", "n_labels", "labels", "labels_differ", "max_distance", "first_image"]
MEMBER_COLUMNS = ["group", "kind", "image_id", "label", "distance"]


@dataclass
class Duplicates:
    """Duplicate groups, most certain label problems first.

    Attributes
    ----------
    groups : DataFrame
        One row per group: ``group`` (int id), ``kind`` ("exact" or "near"), ``size``,
        ``n_labels``, ``labels`` (sorted, joined by " | "), ``labels_differ``,
        ``max_distance`` (largest pHash distance to the group's first image; 0 for exact),
        ``first_image``. Sorted: differing labels first, then exact before near, then size.
    members : DataFrame
        ``group``, ``kind``, ``image_id``, ``label``, ``distance`` (bits from the group's
        first image), in group order.
    truncated : bool
        True when more than ``MAX_PAIRS`` near pairs existed and only the first were used.
    """

    groups: pd.DataFrame
    members: pd.DataFrame
    truncated: bool = False

    def of_kind(self, kind: str) -> "Duplicates":
        g = self.groups[self.groups["kind"] == kind]
        return Duplicates(g, self.members[self.members["group"].isin(g["group"])], self.truncated)


def near_pairs(hashes: np.ndarray, *, max_distance: int, max_pairs: int = MAX_PAIRS,
               block: int = BLOCK) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """Every pair ``i < j`` of 64-bit hashes at Hamming distance <= ``max_distance``.

    For small thresholds (<= 7 bits) it uses multi-index hashing: split the 64 bits into
    ``max_distance + 1`` chunks; two hashes that close agree exactly on at least one chunk
    (pigeonhole), so only hashes sharing a chunk value are compared. Otherwise, or when the
    hashes cluster so much that the candidates explode, it compares all pairs in blocks.

    Parameters
    ----------
    hashes : ndarray of int64 or uint64, shape (n,)
    max_distance : int
        Largest number of differing bits that still counts as near (0..64).

    Returns
    -------
    (i, j, d, truncated)
        Index arrays with ``i < j`` (sorted by i, then j), their distances, and whether
        ``max_pairs`` cut the list.
    """
    if not 0 <= max_distance <= 64:
        raise ValueError(f"max_distance must lie in 0..64, got {max_distance}")
    h = np.ascontiguousarray(np.asarray(hashes).astype(np.int64).view(np.uint64))
    found = _multi_index_pairs(h, max_distance) if max_distance <= 7 else None
    if found is None:
        return _blocked_pairs(h, max_distance, max_pairs, block)
    i, j, d = found
    if len(i) > max_pairs:
        return i[:max_pairs], j[:max_pairs], d[:max_pairs], True
    return i, j, d, False


MAX_CANDIDATES = 30_000_000


def _multi_index_pairs(h: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    n = len(h)
    k = t + 1
    edges = np.linspace(0, 64, k + 1).astype(int)
    cand: list[np.ndarray] = []
    total = 0
    for lo, hi in zip(edges[:-1], edges[1:]):
        key = (h >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.argsort(key, kind="stable")
        ks = key[order]
        for off in range(1, n):
            same = np.nonzero(ks[off:] == ks[:-off])[0]
            if not len(same):
                break
            a, b = order[same], order[same + off]
            total += len(same)
            if total > MAX_CANDIDATES:
                return None  # clustered hashes: the blocked scan is cheaper
            close = np.bitwise_count(h[a] ^ h[b]) <= t  # verify now: few candidates survive
            a, b = a[close], b[close]
            cand.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
    pairs = np.unique(np.concatenate(cand)) if cand else np.zeros(0, dtype=np.int64)
    i, j = pairs // n, pairs % n
    return i, j, np.bitwise_count(h[i] ^ h[j]).astype(np.int16)


def _blocked_pairs(h: np.ndarray, t: int, max_pairs: int, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    n = len(h)
    out_i, out_j, out_d = [], [], []
    found = 0
    for start in range(0, n, block):
        rows = h[start:start + block]
        d = np.bitwise_count(rows[:, None] ^ h[None, start:])  # distances to columns >= start
        ii, jj = np.nonzero(d <= t)
        keep = jj > ii  # the strict upper triangle (column offset equals row offset here)
        ii, jj = ii[keep], jj[keep]
        out_i.append(ii + start)
        out_j.append(jj + start)
        out_d.append(d[ii, jj].astype(np.int16))
        found += len(ii)
        if found > max_pairs:
            i, j, dd = (np.concatenate(a)[:max_pairs] for a in (out_i, out_j, out_d))
            return i, j, dd, True
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty.astype(np.int16), False
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d), False


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def find_duplicates(features: pd.DataFrame, labels: pd.DataFrame | None = None, *, label: str = "label",
                    max_distance: int = 4, exact: bool = True, near: bool = True,
                    skip_same_group: bool = False) -> Duplicates:
    """Exact (same SHA-1) and near (pHash distance <= ``max_distance``) duplicate groups.

    Parameters
    ----------
    features : DataFrame
        Scan features with ``image_id``, ``sha1``, ``phash`` and ``error``.
    labels : DataFrame, optional
        A table with ``image_id`` and the column ``label`` (the Manifest, or current labels).
        Without it every label is "" and no group differs.
    label : str, default "label"
        Which column of ``labels`` to compare inside a group (e.g. ``mask`` or ``gender``).
    max_distance : int, default 4
        Near-duplicate threshold in differing bits out of 64.
    exact, near : bool
        Which kinds to look for. A near group made only of exact copies is left out (it is
        already an exact group).
    skip_same_group : bool, default False
        Ignore near pairs whose images share a non-empty ``group_id`` in ``labels`` (the
        mask layout's seven photos of one person look alike by design).

    Returns
    -------
    Duplicates
    """
    for c in ("image_id", "sha1", "phash", "error"):
        if c not in features.columns:
            raise ValueError(f"features lack column {c!r}; rescan the dataset")
    if labels is not None and label not in labels.columns:
        raise ValueError(f"label column {label!r} not in the labels table ({', '.join(map(str, labels.columns))})")
    ids = features["image_id"].astype(str).to_numpy()
    lab = _column(labels, label, ids)
    person = _column(labels, "group_id", ids) if skip_same_group else None
    members: list[pd.DataFrame] = []
    truncated = False
    next_id = 0
    if exact:
        sha = features["sha1"].fillna("").astype(str).to_numpy()
        has = sha != ""
        rows = np.nonzero(has)[0]
        codes = pd.factorize(sha[rows])[0]
        sizes = np.bincount(codes) if len(codes) else np.zeros(0, int)
        dup = sizes[codes] > 1
        rows, codes = rows[dup], codes[dup]
        order = np.argsort(codes, kind="stable")
        rows, codes = rows[order], codes[order]
        for idx in np.split(rows, np.nonzero(np.diff(codes))[0] + 1) if len(rows) else []:
            members.append(_member_frame(next_id, "exact", ids[idx], lab[idx], np.zeros(len(idx), int)))
            next_id += 1
    if near:
        ok = (features["error"].fillna("").astype(str) == "").to_numpy() & features["phash"].notna().to_numpy()
        pos = np.nonzero(ok)[0]
        # never through float64: a nullable Int64 column with one <NA> would round every hash
        hashes = features["phash"].iloc[pos].astype("int64").to_numpy()
        sha = features["sha1"].fillna("").astype(str).to_numpy()[pos]
        i, j, _, truncated = near_pairs(hashes, max_distance=max_distance)
        if person is not None and len(i):
            gp = person[pos]
            keep = (gp[i] != gp[j]) | (gp[i] == "")
            i, j = i[keep], j[keep]
        if len(i):
            comp = _components(len(pos), i, j)
            in_pair = np.zeros(len(pos), bool)
            in_pair[i] = in_pair[j] = True
            order = np.argsort(comp[in_pair], kind="stable")
            nodes = np.nonzero(in_pair)[0][order]
            bounds = np.nonzero(np.diff(comp[nodes]))[0] + 1
            for grp in np.split(nodes, bounds):
                if len(set(sha[grp])) < 2:
                    continue  # only exact copies of one file
                dist = np.bitwise_count((hashes[grp] ^ hashes[grp[0]]).view(np.uint64)).astype(int)
                o = np.argsort(dist, kind="stable")
                g = pos[grp[o]]
                members.append(_member_frame(next_id, "near", ids[g], lab[g], dist[o]))
                next_id += 1
    if not members:
        return Duplicates(pd.DataFrame(columns=GROUP_COLUMNS), pd.DataFrame(columns=MEMBER_COLUMNS), truncated)
    mem = pd.concat(members, ignore_index=True)
    return Duplicates(_summarise(mem), _order_members(mem), truncated)


def _column(labels: pd.DataFrame | None, column: str, ids: np.ndarray) -> np.ndarray:
    """``labels[column]`` as strings aligned with ``ids`` ("" where missing)."""
    if labels is None or column not in labels.columns:
        return np.full(len(ids), "", dtype=object)
    s = labels.drop_duplicates("image_id").set_index(labels["image_id"].drop_duplicates().astype(str))[column]
    return s.astype(str).reindex(ids).fillna("").to_numpy(dtype=object)


def _member_frame(group: int, kind: str, ids, labels, dist) -> pd.DataFrame:
    return pd.DataFrame({"group": group, "kind": kind, "image_id": ids, "label": labels, "distance": dist})


def _summarise(mem: pd.DataFrame) -> pd.DataFrame:
    g = mem.groupby("group", sort=False)
    out = pd.DataFrame({
        "kind": g["kind"].first(),
        "size": g.size(),
        "n_labels": g["label"].nunique(),
        "labels": g["label"].agg(lambda s: " | ".join(sorted(set(s)))),
        "max_distance": g["distance"].max(),
        "first_image": g["image_id"].first(),
    }).reset_index()
    out["labels_differ"] = out["n_labels"] > 1
    out["_exact"] = out["kind"] == "exact"
    out = out.sort_values(["labels_differ", "_exact", "size", "group"], ascending=[False, False, False, True])
    return out[GROUP_COLUMNS].reset_index(drop=True)


def _order_members(mem: pd.DataFrame) -> pd.DataFrame:
    return mem[MEMBER_COLUMNS].reset_index(drop=True)


def duplicate_pairs(dups: Duplicates) -> pd.DataFrame:
    """Each image paired with its group's first image: ``group``, ``kind``, ``a``, ``b``, ``distance``."""
    m = dups.members
    first = m.groupby("group")["image_id"].transform("first")
    rest = m[m["image_id"] != first]
    return pd.DataFrame({"group": rest["group"], "kind": rest["kind"], "a": first[rest.index],
                         "b": rest["image_id"], "distance": rest["distance"]}).reset_index(drop=True)
