"""``find_issues``: run the registered checks and rank their findings into one suspects table.

>>> import labelscope as ls
>>> m = ls.load_dataset("data/demo")
>>> suspects = ls.find_issues(m, workspace="data/demo/.labelscope")   # cached scan + embeddings
>>> suspects.head()[["issue", "image_id", "person", "field", "score", "given", "suggested"]]

Rows are sorted most suspicious first (lowest score); ties go quality, duplicate, person,
label, outlier. Only flagged rows are kept unless ``all_rows=True`` (the benchmarks use that
to rank every image).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..config import BEST_EMBEDDERS
from ..dataset import Manifest
from ..workspace import Workspace, write_json, write_parquet
from .base import IssueInputs

SUSPECT_COLUMNS = ("rank", "issue", "image_id", "person", "field", "score", "given", "suggested", "confidence",
                   "detail", "images", "flagged")
DEEPER_ISSUES = ("label",)  # unflagged rows the Queue offers after the flagged ones
PRETRAINED_EMBEDDERS = BEST_EMBEDDERS


def find_issues(
    manifest: Manifest,
    workspace: str | os.PathLike[str] | Workspace | None = None,
    *,
    pred_probs: Any = None,
    features: pd.DataFrame | None = None,
    embeddings: Any = None,
    checks: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    all_rows: bool = False,
) -> pd.DataFrame:
    """Run the checks and return the ranked suspects table.

    Parameters
    ----------
    manifest : Manifest
        The dataset with its labels as they stand (apply review decisions first).
    workspace : path or Workspace, optional
        Where to read what is not passed: scan features, cached pretrained embeddings
        (``effnet``, ``face``) and the training module's latest out-of-fold predictions.
    pred_probs : DataFrame, path or None
        Out-of-sample probabilities: a table with ``image_id`` and one column per class, or a
        run folder / ``predictions.parquet`` of the training module.
    features : DataFrame, optional
        Scan features (``labelscope.scan.load_features``).
    embeddings : Embedding, list of Embedding or None
        Pretrained embeddings; the label checks combine them.
    checks : list of str, optional
        Names from ``CHECKS`` to run (default: every check that applies).
    progress : callable, optional
        ``progress(stage, done, total)``.
    all_rows : bool
        Keep rows no check flagged (every image's label score), default False.

    Returns
    -------
    DataFrame with columns ``rank, issue, image_id, person, field, score, given, suggested,
    confidence, detail, images, flagged``, most suspicious first; ``attrs["sources"]`` says
    where the probabilities came from.
    """
    from . import CHECKS

    ws = None if workspace is None else Workspace.of(workspace)
    inputs = IssueInputs(
        manifest=manifest,
        pred_probs=_pred_probs(pred_probs, ws),
        features=features if features is not None else _features(ws),
        embeddings=_embeddings(embeddings, ws),
        progress=progress,
    )
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    frames = []
    for k, name in enumerate(names):
        check = CHECKS[name]
        inputs.tell(f"check {name}", k, len(names))
        if check.applies(inputs):
            frames.append(as_suspects(name, check.run(inputs)))
    inputs.tell("checks done", len(names), len(names))
    table = rank_suspects(frames, all_rows=all_rows)
    table.attrs["sources"] = {k.split(":", 1)[1]: v.source for k, v in inputs.cache.items()
                              if k.startswith("probs:") and v is not None}
    return table


def as_suspects(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A check's frame in the suspects table's columns."""
    out = df.rename(columns={f"{name}_score": "score", f"is_{name}_issue": "flagged"})
    out.insert(0, "issue", name)
    return out


def rank_suspects(frames: list[pd.DataFrame], *, all_rows: bool = False) -> pd.DataFrame:
    """Concatenate, drop what a person row already covers, sort, number from 1."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("score", "confidence") else object)
                             for c in SUSPECT_COLUMNS})
    df = pd.concat(frames, ignore_index=True)
    if not all_rows:
        df = df[df["flagged"]]
    # a flagged mask swap already shows the photos it moves; their own label rows would repeat it
    swaps = df[(df["issue"] == "person") & (df["field"] == "mask") & df["flagged"]]
    covered = {i for s in swaps["images"] for i in s.split(";") if i}
    df = df[~((df["issue"] == "label") & df["image_id"].isin(covered))]
    from . import CHECKS

    order = {n: c.order for n, c in CHECKS.items()}
    df = df.assign(_o=df["issue"].map(order).fillna(len(order)))
    df = df.sort_values(["score", "_o", "person", "image_id"], kind="stable").drop(columns="_o")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df[list(SUSPECT_COLUMNS)].reset_index(drop=True)


def queue_order(table: pd.DataFrame, *, deeper_issues: tuple[str, ...] = DEEPER_ISSUES) -> pd.DataFrame:
    """The flagged rows first (their order kept), then the unflagged rows of ``deeper_issues`` in
    score order ("review deeper"), renumbered from 1.

    ``table`` is a ``find_issues(..., all_rows=True)`` result. A Queue that has shown every
    flagged item goes on with the images the checks ranked next, where the flips a threshold
    missed are.
    """
    flagged = table[table["flagged"].astype(bool)]
    rest = table[~table["flagged"].astype(bool) & table["issue"].isin(deeper_issues)]
    rest = rest.sort_values(["score", "person", "image_id"], kind="stable")
    out = pd.concat([flagged, rest], ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out.attrs = dict(table.attrs)
    return out


def save_suspects(table: pd.DataFrame, workspace: str | os.PathLike[str] | Workspace,
                  *, extra: dict[str, Any] | None = None) -> Path:
    """Cache the table as ``suspects.parquet`` (with ``suspects.json`` saying how it was made)."""
    ws = Workspace.of(workspace)
    ws.ensure()
    path = write_parquet(table, ws.suspects)
    flagged = table[table["flagged"].astype(bool)] if "flagged" in table.columns else table
    counts = flagged.groupby("issue").size().to_dict() if len(flagged) else {}
    write_json({"created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "rows": len(flagged),
                "deeper_rows": len(table) - len(flagged), "by_issue": counts, "sources": table.attrs.get("sources", {}), **(extra or {})},
               ws.suspects.with_suffix(".json"))
    return path


def load_suspects(workspace: str | os.PathLike[str] | Workspace, *, deeper: bool = False) -> pd.DataFrame | None:
    """The cached suspects table, or None when ``labelscope suspects`` has not run yet.

    Flagged rows only, unless ``deeper``: then also the unflagged rows the cache keeps after
    them (``queue_order``), for the Queue's "review deeper".
    """
    ws = Workspace.of(workspace)
    if not ws.suspects.is_file():
        return None
    table = pd.read_parquet(ws.suspects)
    if deeper or "flagged" not in table.columns:
        return table
    return table[table["flagged"].astype(bool)].reset_index(drop=True)


def _features(ws: Workspace | None) -> pd.DataFrame | None:
    if ws is None or not ws.has_scan():
        return None
    from ..scan import load_features

    return load_features(ws.root)


def _embeddings(embeddings: Any, ws: Workspace | None) -> list:
    if embeddings is not None:
        if isinstance(embeddings, dict):
            return list(embeddings.values())
        return list(embeddings) if isinstance(embeddings, (list, tuple)) else [embeddings]
    if ws is None:
        return []
    from ..embed import load_embeddings

    found = []
    for name in PRETRAINED_EMBEDDERS:
        emb = load_embeddings(ws.root, name)
        if emb is not None:
            found.append(emb)
    return found


def _pred_probs(pred: Any, ws: Workspace | None) -> pd.DataFrame | None:
    """A predictions table from a DataFrame, a run folder or parquet file, or the workspace's newest run."""
    if isinstance(pred, pd.DataFrame):
        return pred
    from ..train.registry import load_predictions, read_predictions

    if pred is not None:
        p = Path(pred)
        d = p if p.is_dir() else p.parent
        if not (d / "predictions.parquet").is_file():
            raise FileNotFoundError(f"no predictions at {p} (expected a run folder with predictions.parquet)")
        return read_predictions(d)
    if ws is None:
        return None
    try:
        return load_predictions(ws.root)
    except FileNotFoundError:
        return None
