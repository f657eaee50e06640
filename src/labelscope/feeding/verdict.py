"""Loader-bound or model-bound: the verdict per setting, derived only from measured rates.

A training step can go no faster than the slower of its two halves: the loader delivering
images and the model consuming them (forward + backward). Both are measured alone in
images per second; the verdict compares the two numbers and says by how much they differ.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

VERDICT_COLUMNS = ["batch_size", "workers", "loader_ips", "model_ips", "expected_ips", "bound", "factor",
                   "model_idle", "fed"]


def verdicts(loader: pd.DataFrame, model: pd.DataFrame) -> pd.DataFrame:
    """One verdict per (batch size, worker count) from the two measured tables.

    Parameters
    ----------
    loader : DataFrame
        Loader-alone measurements, columns ``batch_size``, ``workers``, ``images_per_s``.
    model : DataFrame
        Model-alone measurements, columns ``batch_size``, ``images_per_s``.

    Returns
    -------
    DataFrame
        Columns ``batch_size``, ``workers``, ``loader_ips`` and ``model_ips`` (images/s),
        ``expected_ips`` (the slower of the two: the best a training step can do),
        ``bound`` (``"loader"`` when the loader is slower than the model, else ``"model"``),
        ``factor`` (faster rate / slower rate, >= 1: "by how much"), ``model_idle`` (share
        of the time the model would wait for data, 0 when model-bound) and ``fed``
        (the loader keeps up); ``loader_mem_mb`` / ``model_mem_mb`` when the inputs have
        ``mem_mb``. Rows with a batch size the model was not measured at are
        left out.
    """
    for name, df, cols in (("loader", loader, ("batch_size", "workers", "images_per_s")),
                           ("model", model, ("batch_size", "images_per_s"))):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} table lacks column(s) {', '.join(missing)}")
    m = model[["batch_size", "images_per_s"]].rename(columns={"images_per_s": "model_ips"})
    out = (loader[["batch_size", "workers", "images_per_s"]].rename(columns={"images_per_s": "loader_ips"})
           .merge(m, on="batch_size", how="inner"))
    if out.empty:
        return pd.DataFrame(columns=VERDICT_COLUMNS)
    lo, mo = out["loader_ips"].astype(float), out["model_ips"].astype(float)
    out["expected_ips"] = pd.concat([lo, mo], axis=1).min(axis=1)
    out["bound"] = ["loader" if a < b else "model" for a, b in zip(lo, mo)]
    out["factor"] = [_ratio(max(a, b), min(a, b)) for a, b in zip(lo, mo)]
    out["model_idle"] = [max(0.0, 1.0 - a / b) if b > 0 else 0.0 for a, b in zip(lo, mo)]
    out["fed"] = out["bound"] == "model"
    cols = list(VERDICT_COLUMNS)
    for name, df in (("loader", loader), ("model", model)):
        if "mem_mb" in df.columns:
            keys = ["batch_size", "workers"] if name == "loader" else ["batch_size"]
            out = out.merge(df[keys + ["mem_mb"]].rename(columns={"mem_mb": f"{name}_mem_mb"}), on=keys, how="left")
            cols.append(f"{name}_mem_mb")
    return out[cols].sort_values(["workers", "batch_size"], kind="stable").reset_index(drop=True)


def _ratio(a: float, b: float) -> float:
    if b > 0:
        return float(a / b)
    return math.inf if a > 0 else 1.0


@dataclass(frozen=True)
class BestSetting:
    """The setting to train with: the fastest that keeps the model fed, else the fastest.

    ``fed`` is False when no measured setting keeps the model fed (loader-bound everywhere).
    """

    batch_size: int
    workers: int
    expected_ips: float
    loader_ips: float
    model_ips: float
    bound: str
    factor: float
    fed: bool

    def to_dict(self) -> dict:
        return asdict(self)


def best_setting(table: pd.DataFrame, *, tolerance: float = 0.05) -> BestSetting | None:
    """Pick the fastest setting, preferring ones that keep the model fed.

    Among the candidates (the fed rows if any, else all rows), those within ``tolerance``
    (a share, default 5%) of the highest ``expected_ips`` count as equally fast; of these
    the one with the fewest workers (less memory, fewer processes), then the smallest
    batch, wins. Returns None for an empty table.
    """
    if table.empty:
        return None
    fed = table[table["fed"]]
    cand = fed if len(fed) else table
    top = float(cand["expected_ips"].max())
    near = cand[cand["expected_ips"] >= top * (1.0 - tolerance)]
    r = near.sort_values(["workers", "batch_size"], kind="stable").iloc[0]
    return BestSetting(batch_size=int(r["batch_size"]), workers=int(r["workers"]),
                       expected_ips=float(r["expected_ips"]), loader_ips=float(r["loader_ips"]),
                       model_ips=float(r["model_ips"]), bound=str(r["bound"]), factor=float(r["factor"]),
                       fed=bool(r["fed"]))
