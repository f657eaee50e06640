"""``labelscope check DATASET [--json]``: every validation problem, by file and row."""
from __future__ import annotations

import argparse

from .common import add_dataset_args, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="validate a dataset and list every problem by file and row",
                       description="Exit 1 when the dataset cannot be used at all, 0 otherwise "
                                   "(problems that affect only some rows are warnings).")
    add_dataset_args(p, workspace=False)
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..dataset import check_dataset

    m = check_dataset(args.dataset, args.layout)
    ok = not m.errors
    if args.json:
        print_json({
            "dataset": str(m.source), "layout": m.layout, "usable": ok, "images": len(m.df),
            "groups": int(m.df["group_id"].astype(str).replace("", None).nunique()) if len(m.df) else 0,
            "errors": len(m.errors), "warnings": len(m.warnings),
            "problems": [p.to_dict() for p in m.problems],
        })
    else:
        print(f"{m.source} ({m.layout} layout): {len(m.df)} usable images, "
              f"{len(m.errors)} errors, {len(m.warnings)} warnings")
        for prob in m.problems:
            print(f"  {prob}")
        if ok and not m.problems:
            print("  no problems found")
    return 0 if ok else 1
