"""Corrected-label export: ``labels.csv`` (+ ``train.csv`` for the mask layout) and ``summary.json``.

    labelscope export data/demo --out data/demo-fixed

Every file is built in memory from one snapshot of the events, then written atomically
(temporary file, fsync, rename), ``summary.json`` last with the sha256 of the others: a killed
export leaves the previous files whole. Rows come in a stable order and nothing time-dependent
is written, so an export with no new events is byte-identical to the previous one.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..dataset import Manifest
from ..workspace import write_bytes
from .labels import apply_events, label_changes

LABELS_COLUMNS = ["image_id", "path", "person", "label", "excluded", "changed", "last_reviewer"]
# What ``labels_columns`` gives for the competition's schema (written out for readers of labels.csv).
LABELS_COLUMNS_MASK = ["image_id", "path", "person", "mask", "gender", "age", "age_group", "class_index",
                       "label", "excluded", "changed", "last_reviewer"]
TRAIN_COLUMNS = ["id", "gender", "race", "age", "path"]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Free text a person typed (names, notes, generated details): the only cells a spreadsheet
# formula could hide in that nothing reads back as data. Identifiers, paths and labels are
# written verbatim, so a dataset labelled "-1"/"+1" round-trips and training finds every file.
FREE_TEXT_COLUMNS = frozenset({"last_reviewer", "reviewer", "note", "notes", "detail"})
EXPORT_FORMAT = 1


@dataclass
class ExportResult:
    """What an export wrote: ``files`` maps file name -> path; ``summary`` is summary.json."""

    out_dir: Path
    files: dict[str, Path]
    rows: int
    changed: int
    excluded: int
    last_event_id: int
    summary: dict[str, Any] = field(default_factory=dict)


def neutralise(value: Any) -> str:
    """A cell as text, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_PREFIXES) else s


def csv_bytes(df: pd.DataFrame, columns: list[str], *, free_text: frozenset[str] | set[str] | None = None) -> bytes:
    """``df[columns]`` as UTF-8 CSV (``\n`` line ends, minimal quoting).

    Formulas are neutralised only in ``free_text`` columns (default ``FREE_TEXT_COLUMNS``):
    reviewer names and notes. Every other cell (image_id, path, label, group...) is written
    verbatim: an identifier with a ``'`` in front would no longer name its file.
    """
    text = FREE_TEXT_COLUMNS if free_text is None else free_text
    cols = [_neutralised(df[c]) if c in text else _verbatim(df[c]) for c in columns]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows(zip(*cols))
    return buf.getvalue().encode("utf-8")


def _verbatim(col: pd.Series) -> list[str]:
    return ["" if v is None else str(v) for v in col.tolist()]


def _neutralised(col: pd.Series) -> list[str]:
    values = ["" if v is None else str(v) for v in col.tolist()]
    return ["'" + v if v.startswith(FORMULA_PREFIXES) else v for v in values]


def labels_frame(current: Manifest) -> pd.DataFrame:
    """One row per image in image_id order, in the ``labels.csv`` schema."""
    df = current.df.sort_values("image_id", kind="stable")
    out = pd.DataFrame({"image_id": df["image_id"], "path": df["image_id"],
                        "person": df["group_id"].astype(str)})
    schema = current.schema
    for c in schema.label_columns:
        out[c] = df[c].astype(int) if c == "class_index" or schema.is_int(c) else df[c]
    out["label"] = df["label"]
    out["excluded"] = df["excluded"].astype(int)
    out["changed"] = df["changed"].astype(int)
    out["last_reviewer"] = df["last_reviewer"]
    return out.reset_index(drop=True)


def person_frame(current: Manifest, original: Manifest) -> pd.DataFrame:
    """The competition's ``train.csv`` rows (id, gender, race, age, path), in the CSV's order.

    A person's value is the one most of their photos carry today; on a tie, a reviewer's change
    wins over the value on disk (then the alphabetically first).
    """
    firsts = original.df.sort_values("csv_row", kind="stable").drop_duplicates("group_id")
    out = firsts[["group_id", "person_path"]].rename(columns={"group_id": "id", "person_path": "path"})
    gids = current.df["group_id"].astype(str).tolist()
    for f in ("gender", "race", "age"):
        disk = dict(zip(firsts["group_id"].astype(str), firsts[f].astype(str)))
        counts = Counter(zip(gids, current.df[f].astype(str).tolist()))
        best: dict[str, tuple[int, bool, str]] = {}
        for (gid, value), n in counts.items():
            rank = (-n, value == disk.get(gid), value)
            if gid not in best or rank < best[gid]:
                best[gid] = rank
        out[f] = out["id"].astype(str).map({g: r[2] for g, r in best.items()})
    out["age"] = out["age"].astype(int)
    return out[TRAIN_COLUMNS].reset_index(drop=True)


def export_labels(manifest: Manifest, store: Any, out_dir: str | os.PathLike[str]) -> ExportResult:
    """Write today's labels of ``manifest`` (as loaded from disk) into ``out_dir``.

    Parameters
    ----------
    manifest : Manifest
        The dataset as loaded from disk (not a ``current_labels`` result).
    store : ReviewStore
        The decisions; read once, so every file describes the same snapshot.
    out_dir : path
        Created if missing; ``labels.csv``, ``train.csv`` (mask layout) and ``summary.json`` are
        replaced atomically.
    """
    out = Path(out_dir).expanduser().resolve()
    group_table = manifest.schema.group_table
    names = ["labels.csv", "summary.json"] + ([group_table] if group_table else [])
    refuse_source_overwrite(manifest, [out / n for n in names])
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(out)
    latest, stats = store.snapshot()
    current = apply_events(manifest, latest)
    frames = {"labels.csv": (labels_frame(current), labels_columns(manifest))}
    if manifest.schema.group_table:
        frames[manifest.schema.group_table] = (person_frame(current, manifest), TRAIN_COLUMNS)
    payload = {name: csv_bytes(frame, cols) for name, (frame, cols) in frames.items()}
    rows = {name: len(frame) for name, (frame, _) in frames.items()}
    summary = _summary(manifest, current, stats, latest, payload, rows)
    payload["summary.json"] = (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode("utf-8")
    files = {name: write_bytes(data, out / name) for name, data in payload.items()}
    df = current.df
    return ExportResult(out_dir=out, files=files, rows=len(df), changed=int(df["changed"].sum()),
                        excluded=int(df["excluded"].sum()), last_event_id=summary["events"]["last_id"],
                        summary=summary)


def source_files(manifest: Manifest) -> list[Path]:
    """The files a dataset is read from (besides its images): train.csv, or the CSV manifest."""
    out = []
    if manifest.source.suffix.lower() == ".csv" or manifest.source.is_file():
        out.append(manifest.source)
    table = manifest.schema.group_table
    if table and (manifest.root / table).exists():
        out.append(manifest.root / table)
    return out


def refuse_source_overwrite(manifest: Manifest, targets: list[Path]) -> None:
    """Raise ReviewError when writing any of ``targets`` would replace a file the dataset is read
    from (train.csv, the CSV manifest, an image): the on-disk baseline must survive an export."""
    from .errors import ReviewError

    sources = [Path(p) for p in source_files(manifest)]
    resolved = {_resolved(p): p for p in sources}
    ids = set(manifest.df["image_id"].astype(str)) if len(manifest.df) else set()
    root = _resolved(manifest.root)
    for t in targets:
        rt = _resolved(t)
        hit = resolved.get(rt)
        if hit is None and t.exists():
            hit = next((p for p in sources if _same_file(t, p)), None)
        if hit is None:
            try:
                rel = rt.relative_to(root).as_posix()
            except ValueError:
                rel = None
            if rel is not None and rel in ids:
                hit = manifest.root / rel
        if hit is not None:
            raise ReviewError(f"refusing to export into {t.parent}: {t.name} would overwrite the dataset's own "
                              f"{hit} (the labels on disk are the baseline every decision is compared with); "
                              "choose another --out folder, e.g. the default WS/exports")


def _resolved(p: Path) -> Path:
    try:
        return Path(os.path.realpath(p))
    except (OSError, ValueError):
        return Path(os.path.abspath(p))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def labels_columns(manifest: Manifest) -> list[str]:
    """``labels.csv``'s columns for ``manifest``'s schema (its label columns before ``label``)."""
    return LABELS_COLUMNS[:3] + manifest.schema.label_columns + LABELS_COLUMNS[3:]


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(series.value_counts().items(), key=lambda kv: str(kv[0]))}


def _summary(manifest: Manifest, current: Manifest, stats: dict[str, Any], latest: pd.DataFrame,
             payload: dict[str, bytes], rows: dict[str, int]) -> dict[str, Any]:
    df = current.df
    kept = df[~df["excluded"]]
    ev = {k: stats[k] for k in ("count", "first_id", "last_id", "first_at", "last_at")}
    diff = label_changes(manifest, latest)
    return {
        "format": EXPORT_FORMAT,
        "dataset": str(manifest.source), "layout": manifest.layout,
        "images": int(len(df)), "groups": int(df["group_id"].astype(str).replace("", None).nunique()),
        "changed_images": int(df["changed"].sum()), "excluded_images": int(df["excluded"].sum()),
        "flagged_images": int(df["flagged"].sum()), "confirmed_images": int(df["confirmed"].sum()),
        "changes_by_field": _counts(diff["field"]) if len(diff) else {},
        "events": ev,
        "actions": {str(k): int(v) for k, v in sorted(stats["actions"].items())},
        "reviewers": {str(k): int(v) for k, v in sorted(stats["reviewers"].items())},
        "classes": {"before": _counts(manifest.df["label"]), "after": _counts(df["label"]),
                    "after_without_excluded": _counts(kept["label"])},
        "files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                         "rows": rows[name]} for name, data in sorted(payload.items())},
    }


def _remove_stale_temps(out: Path, *, older_than_s: float = 3600.0) -> None:
    """Temporary files an export killed mid-write left behind (an hour old or more)."""
    now = time.time()
    for p in out.glob(".*.tmp"):
        try:
            if now - p.stat().st_mtime > older_than_s:
                p.unlink()
        except OSError:
            pass


@dataclass
class LastExport:
    """The export found in a folder: its ``summary.json``, whether decisions were recorded after
    it (``stale``), and the files a user downloads (``labels.csv``, ``train.csv``, ``summary.json``)."""

    summary: dict[str, Any]
    stale: bool
    files: dict[str, Path]


DOWNLOADS = ("labels.csv", "train.csv", "summary.json")


def last_export(out_dir: str | os.PathLike[str], version: int) -> LastExport | None:
    """The export in ``out_dir`` compared with the store's ``version`` (newest event id); None
    when there is none (or its summary.json cannot be read)."""
    out = Path(out_dir)
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    last = int(summary.get("events", {}).get("last_id", 0) or 0)
    files = {name: out / name for name in DOWNLOADS if (out / name).is_file()}
    return LastExport(summary, last < int(version), files)
