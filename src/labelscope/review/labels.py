"""Today's labels = the manifest on disk + the latest event of each (image, field).

Pure functions on DataFrames, so the fold is tested without a database.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..dataset import Manifest
from .fields import STATE_FIELDS

STATE_COLUMNS = tuple(STATE_FIELDS)  # flagged, excluded, confirmed
LATEST_COLUMNS = ["id", "at", "reviewer", "image_id", "field", "new"]


def _positions(manifest: Manifest, latest: pd.DataFrame) -> pd.DataFrame:
    """``latest`` restricted to images of the manifest, with their row position ``pos``."""
    pos = pd.Index(manifest.df["image_id"]).get_indexer(latest["image_id"])
    return latest.assign(pos=pos)[pos >= 0]


def apply_events(manifest: Manifest, latest: pd.DataFrame) -> Manifest:
    """Fold the latest events onto ``manifest`` (as loaded from disk).

    Parameters
    ----------
    manifest : Manifest
        The dataset's own labels; events for image ids it lacks are ignored.
    latest : DataFrame
        One row per (image_id, field): columns id, at, reviewer, image_id, field, new.

    Returns
    -------
    Manifest
        Same rows and order, label fields replaced by their latest values, plus ``flagged``,
        ``excluded``, ``confirmed``, ``changed`` (bool: a label field differs from disk) and
        ``last_reviewer`` (who made the image's latest decision, "" if none). For the mask
        layout ``age_group``, ``class_index`` and ``label`` are recomputed.
    """
    base = manifest.df
    df = base.copy()
    lt = _positions(manifest, latest)
    n = len(df)
    for field in manifest.fields:
        sub = lt[lt["field"] == field]
        if sub.empty:
            continue
        values = df[field].to_numpy(copy=True)
        new = sub["new"].to_numpy()
        if field == "age":
            values = values.astype(np.int64)
            new = new.astype(np.int64)
            values[sub["pos"].to_numpy()] = new
            df[field] = values
        else:
            values = values.astype(object)
            values[sub["pos"].to_numpy()] = new
            df[field] = pd.Series(values, index=df.index).astype(base[field].dtype)
    for state in STATE_COLUMNS:
        flags = np.zeros(n, dtype=bool)
        sub = lt[lt["field"] == state]
        flags[sub["pos"].to_numpy()] = sub["new"].to_numpy() == "1"
        df[state] = flags
    changed = np.zeros(n, dtype=bool)
    for field in manifest.fields:
        changed |= df[field].astype(str).to_numpy() != base[field].astype(str).to_numpy()
    df["changed"] = changed
    who = np.full(n, "", dtype=object)
    if len(lt):
        last = lt.sort_values("id").drop_duplicates("pos", keep="last")
        who[last["pos"].to_numpy()] = last["reviewer"].to_numpy()
    df["last_reviewer"] = who
    if manifest.layout == "mask" and n:
        from ..dataset.mask import derive_columns

        df = derive_columns(df)
    return manifest.with_df(df)


def label_changes(manifest: Manifest, latest: pd.DataFrame) -> pd.DataFrame:
    """Every (image, field) whose value today differs from the dataset on disk.

    Returns a DataFrame with columns image_id, group_id, field, before, after, reviewer, at
    (who made the latest change of that field, and when), sorted by image_id then field.
    """
    cols = ["image_id", "group_id", "field", "before", "after", "reviewer", "at"]
    lt = _positions(manifest, latest)
    lt = lt[lt["field"].isin(manifest.fields)]
    if lt.empty:
        return pd.DataFrame(columns=cols)
    pos = lt["pos"].to_numpy()
    before = np.empty(len(lt), dtype=object)
    for field in lt["field"].unique():
        sel = (lt["field"] == field).to_numpy()
        col = manifest.df[field].to_numpy()[pos[sel]]
        before[sel] = [str(int(v)) if field == "age" else str(v) for v in col]
    out = pd.DataFrame({
        "image_id": lt["image_id"].to_numpy(),
        "group_id": manifest.df["group_id"].astype(str).to_numpy()[pos],
        "field": lt["field"].to_numpy(), "before": before, "after": lt["new"].to_numpy(),
        "reviewer": lt["reviewer"].to_numpy(), "at": lt["at"].to_numpy(),
    })
    out = out[out["before"] != out["after"]]
    return out.sort_values(["image_id", "field"], kind="stable").reset_index(drop=True)[cols]
