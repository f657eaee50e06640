"""Today's labels = the manifest on disk + the latest event of each (image, field).

Pure functions on DataFrames, so the fold is tested without a database.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..dataset import Manifest
from .fields import STATE_FIELDS

STATE_COLUMNS = tuple(STATE_FIELDS)  # flagged, excluded, confirmed
LATEST_COLUMNS = ["id", "at", "reviewer", "image_id", "field", "new"]


def _as_object(col) -> np.ndarray:
    return col.to_numpy(dtype=object) if hasattr(col, "to_numpy") else np.asarray(col, dtype=object)


def _columns(manifest: Manifest, latest: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``latest``'s columns as NumPy arrays, restricted to the manifest's images, plus ``pos``."""
    index = pd.Index(_as_object(manifest.df["image_id"]))
    cols = {c: _as_object(latest[c]) for c in ("reviewer", "image_id", "field", "new")}
    cols["id"] = np.asarray(latest["id"], dtype=np.int64)
    pos = index.get_indexer(cols["image_id"]) if len(cols["id"]) else np.zeros(0, dtype=np.int64)
    keep = pos >= 0
    out = {c: v[keep] for c, v in cols.items()}
    out["pos"] = pos[keep]
    return out


def apply_events(manifest: Manifest, latest: pd.DataFrame) -> Manifest:
    """Fold the latest events onto ``manifest`` (as loaded from disk).

    Parameters
    ----------
    manifest : Manifest
        The dataset's own labels; events for image ids it lacks are ignored.
    latest : DataFrame or mapping of columns
        One row per (image_id, field): columns id, reviewer, image_id, field, new (``at`` unused).

    Returns
    -------
    Manifest
        Same rows and order, label fields replaced by their latest values, plus ``flagged``,
        ``excluded``, ``confirmed``, ``changed`` (bool: a label field differs from disk) and
        ``last_reviewer`` (who made the image's latest decision, "" if none). Where the schema
        has factors, its derived columns (``age_group``, ``class_index``, ``label``) are recomputed.
    """
    base = manifest.df
    df = base.copy()
    n = len(df)
    lt = _columns(manifest, latest)
    pos, fields, new = lt["pos"], lt["field"], lt["new"]
    changed = np.zeros(n, dtype=bool)
    current: dict[str, np.ndarray] = {}
    schema = manifest.schema
    for field in manifest.fields:
        sel = fields == field
        if schema.is_int(field):
            before = base[field].to_numpy(dtype=np.int64)
            values = before.copy()
            values[pos[sel]] = new[sel].astype(np.int64)
        else:
            before = _as_object(base[field])
            values = before.copy()
            values[pos[sel]] = new[sel]
        current[field] = values
        if sel.any():
            changed |= values != before
            df[field] = values if schema.is_int(field) else pd.Series(values, index=df.index).astype(base[field].dtype)
    for state in STATE_COLUMNS:
        flags = np.zeros(n, dtype=bool)
        sel = fields == state
        flags[pos[sel]] = new[sel] == "1"
        df[state] = flags
    df["changed"] = changed
    who = np.full(n, "", dtype=object)
    if len(pos):
        newest_first = np.argsort(-lt["id"], kind="stable")
        _, first = np.unique(pos[newest_first], return_index=True)
        latest_row = newest_first[first]  # per image, its newest event
        who[pos[latest_row]] = lt["reviewer"][latest_row]
    df["last_reviewer"] = who
    if schema.factors and n:
        sources = {f.field for f in schema.factors}
        slim = pd.DataFrame({f: current[f] if schema.is_int(f) else pd.Series(current[f], dtype=object)
                             for f in sources})
        derived = schema.derive(slim)
        for col in schema.derived:
            df[col] = derived[col].to_numpy()
        df = df.astype({c: base[c].dtype for c in schema.derived if c in base.columns and c != "class_index"})
    return manifest.with_df(df)


def label_changes(manifest: Manifest, latest: pd.DataFrame) -> pd.DataFrame:
    """Every (image, field) whose value today differs from the dataset on disk.

    Returns a DataFrame with columns image_id, group_id, field, before, after, reviewer, at
    (who made the latest change of that field, and when), sorted by image_id then field.
    """
    cols = ["image_id", "group_id", "field", "before", "after", "reviewer", "at"]
    index = pd.Index(_as_object(manifest.df["image_id"]))
    lt = pd.DataFrame(latest)
    lt = lt.assign(pos=index.get_indexer(_as_object(lt["image_id"])) if len(lt) else [])
    lt = lt[(lt["pos"] >= 0) & lt["field"].isin(manifest.fields)]
    if lt.empty:
        return pd.DataFrame(columns=cols)
    pos = lt["pos"].to_numpy()
    before = np.empty(len(lt), dtype=object)
    for field in lt["field"].unique():
        sel = (lt["field"] == field).to_numpy()
        col = manifest.df[field].to_numpy()[pos[sel]]
        as_int = manifest.schema.is_int(field)
        before[sel] = [str(int(v)) if as_int else str(v) for v in col]
    out = pd.DataFrame({
        "image_id": lt["image_id"].to_numpy(),
        "group_id": manifest.df["group_id"].astype(str).to_numpy()[pos],
        "field": lt["field"].to_numpy(), "before": before, "after": lt["new"].to_numpy(),
        "reviewer": lt["reviewer"].to_numpy(), "at": lt["at"].to_numpy(),
    })
    out = out[out["before"] != out["after"]]
    return out.sort_values(["image_id", "field"], kind="stable").reset_index(drop=True)[cols]
