"""``labelscope suspects DATASET [--workspace WS] [--predictions RUN_DIR] [--out FILE.csv]``.

Ranks suspected issues (wrong labels, a person's inconsistent photos, duplicates, outliers,
unreadable or unusable images), most suspicious first. Computes what the workspace lacks
(the scan, the pretrained embeddings) with progress, so one command works on a fresh
dataset; review decisions already made are applied first. The table is also cached in the
workspace (``suspects.parquet``) for the app's Queue page.

    labelscope suspects data/demo --out suspects.csv
    labelscope suspects data/faces --predictions runs/kfold --out suspects.csv --checks label,duplicate
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, TextIO

from ..config import SUSPECT_EMBEDDERS
from .common import load_usable, add_background_arg, add_dataset_args, fail, settings_from

DEFAULT_EMBEDDERS = ",".join(SUSPECT_EMBEDDERS)
CSV_COLUMNS = ["rank", "issue", "image_id", "person", "field", "score", "given", "suggested", "confidence",
               "detail", "images"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("suspects", help="rank suspected label errors, duplicates and bad images for review",
                       description="Write the suspects table (CSV, most suspicious first; score in [0,1], "
                                   "low = more suspicious). Scans and embeds first where the workspace "
                                   "lacks it.")
    add_dataset_args(p)
    p.add_argument("--out", default=None, metavar="FILE.csv",
                   help="CSV file to write (optional: the table is always cached in the workspace, "
                        "where the app's Queue reads it)")
    p.add_argument("--predictions", metavar="RUN_DIR", default=None,
                   help="a training run's folder (its out-of-fold predictions.parquet); default: the "
                        "workspace's newest imported run, else pretrained embeddings only")
    p.add_argument("--embedders", default=DEFAULT_EMBEDDERS,
                   help=f"pretrained embedders to use where available (default {DEFAULT_EMBEDDERS})")
    p.add_argument("--detector", default="yunet", choices=["yunet", "mtcnn", "none"],
                   help="face boxes found in the same pass as the embeddings (default yunet; none: use "
                        "the boxes already cached)")
    p.add_argument("--device", default="cpu", metavar="DEV", help="cpu (default) or cuda")
    p.add_argument("--checks", default=None, help="comma-separated subset of the checks to run")
    p.add_argument("--all", action="store_true", help="also list rows no check flagged (every image's score)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="scan processes (default: every core)")
    add_background_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..issues import CHECKS
    from ..issues.pipeline import compute_suspects

    settings = settings_from(args)
    manifest = load_usable(settings)
    if manifest is None:
        return 1
    checks = None if not args.checks else [c.strip() for c in args.checks.split(",") if c.strip()]
    unknown = [c for c in checks or [] if c not in CHECKS]
    if unknown:
        return fail(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    notes: list[str] = []
    progress = stage_printer()
    try:
        table = compute_suspects(settings, manifest, predictions=args.predictions, checks=checks,
                                 embedders=[e.strip() for e in args.embedders.split(",") if e.strip()],
                                 all_rows=args.all, progress=progress, notes=notes,
                                 detector=None if args.detector == "none" else args.detector, device=args.device)
    except (FileNotFoundError, ValueError) as e:
        return fail(str(e))
    finally:
        progress("done", 1, 1)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    from ..workspace import Workspace

    if args.out:
        write_csv(table, args.out)
    counts = table.groupby("issue").size().to_dict() if len(table) else {}
    where = args.out or f"{Workspace(settings.workspace).suspects} (the Queue's cache)"
    print(f"{len(table)} suspects ({', '.join(f'{k} {v}' for k, v in counts.items()) or 'none'}) -> {where}")
    for r in table.head(10).itertuples():
        what = r.image_id or f"person {r.person}"
        sugg = f" -> {r.suggested}" if r.suggested else ""
        print(f"  {r.rank:>4}  {r.score:.3f}  {r.issue:<9} {what}  {r.field} {r.given}{sugg}")
    return 0


def stage_printer(stream: TextIO | None = None) -> Callable[[str, int, int], None]:
    """``progress(stage, done, total)``: a counting ProgressLine for scan/embed, one line per check."""
    from ..jobs import report
    from .progress import ProgressLine

    out = stream or sys.stderr
    state: dict[str, Any] = {"stage": None, "line": None}

    def _progress(name: str, done: int, total: int) -> None:
        if not (name == "scan" or name.startswith("embed ")):
            report(name, done, total, unit="")  # the counting stages report through ProgressLine
        if name != state["stage"]:
            if state["line"] is not None:
                state["line"].close()
            state["stage"], state["line"] = name, None
            if name == "scan" or name.startswith("embed "):
                verb = "scanned" if name == "scan" else f"embedded ({name[6:]})"
                state["line"] = ProgressLine(verb, stream=out)
            elif name != "done":
                print(f"  {name}", file=out, flush=True)
        if state["line"] is not None:
            state["line"](done, total)

    return _progress


def write_csv(table, path) -> None:
    """The suspects as CSV, atomically; cells a spreadsheet would run as formulas are neutralised."""
    from ..review.export import csv_bytes
    from ..workspace import write_bytes

    cols = [c for c in CSV_COLUMNS if c in table.columns]
    out = table.copy()
    out["score"] = out["score"].map(lambda v: f"{v:.4f}")
    out["confidence"] = out["confidence"].map(lambda v: "" if v != v else f"{v:.4f}")
    write_bytes(csv_bytes(out, cols), path)
