"""Dataset-level numbers for the Overview: counts, class balance, sizes."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..dataset import Manifest


@dataclass(frozen=True)
class DatasetSummary:
    images: int
    groups: int
    classes: int
    layout: str
    warnings: int
    errors: int


def summarize(manifest: Manifest) -> DatasetSummary:
    df = manifest.df
    groups = df["group_id"].astype(str)
    return DatasetSummary(
        images=len(df),
        groups=int(groups[groups != ""].nunique()),
        classes=int(df["label"].nunique()) if len(df) else 0,
        layout=manifest.layout,
        warnings=len(manifest.warnings),
        errors=len(manifest.errors),
    )


def class_balance(manifest: Manifest, attribute: str) -> pd.DataFrame:
    """Images per value of ``attribute`` with their share; every known value listed (zeros too).

    Returns a DataFrame with columns ``value``, ``images``, ``share`` in the attribute's natural order.
    """
    df = manifest.df
    if attribute not in df.columns:
        raise KeyError(f"unknown attribute {attribute!r}; known: {', '.join(manifest.attributes)}")
    counts = df[attribute].astype(str).value_counts()
    order = _natural_order(manifest, attribute, counts.index.tolist())
    out = pd.DataFrame({"value": order, "images": [int(counts.get(v, 0)) for v in order]})
    total = max(1, int(out["images"].sum()))
    out["share"] = out["images"] / total
    return out


def _natural_order(manifest: Manifest, attribute: str, present: list[str]) -> list[str]:
    known = manifest.schema.value_order(attribute)
    if known:
        return list(known) + sorted(v for v in present if v not in known)
    return sorted(present)


def imbalance_ratio(balance: pd.DataFrame) -> float:
    """Largest class over smallest non-empty class (1.0 = balanced)."""
    n = balance.loc[balance["images"] > 0, "images"]
    return float(n.max() / n.min()) if len(n) else 1.0


def suspect_counts(suspects: pd.DataFrame) -> pd.DataFrame:
    """Suspects per issue kind and field, most frequent first (columns ``issue``, ``field``, ``items``).

    ``suspects`` is the ranked table of ``labelscope suspects`` (one row per suspect item).
    """
    if suspects is None or suspects.empty:
        return pd.DataFrame(columns=["issue", "field", "items"])
    field = suspects["field"].fillna("").astype(str) if "field" in suspects else ""
    out = (suspects.assign(field=field).groupby(["issue", "field"]).size().rename("items").reset_index()
           .sort_values(["items", "issue", "field"], ascending=[False, True, True], kind="stable"))
    return out.reset_index(drop=True)


def readable_split(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scan's readable rows (with ``kb`` = file size in KiB) and the unreadable ones
    (``image_id``, ``error``), for the Overview's size charts and its list of bad files."""
    err = features["error"].fillna("") != ""
    ok = features[~err]
    return ok.assign(kb=ok["file_size"] / 1024), features.loc[err, ["image_id", "error"]]
