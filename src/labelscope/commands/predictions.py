"""``labelscope predictions import RUN_DIR --workspace WS`` and ``labelscope predictions list --workspace WS``."""
from __future__ import annotations

import argparse

from .common import fail, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predictions", help="make training runs visible to the app (import, list)")
    s = p.add_subparsers(dest="predictions_command", metavar="ACTION", required=True)
    imp = s.add_parser("import", help="copy a RUN_DIR's predictions and metrics into the workspace")
    imp.add_argument("run_dir", metavar="RUN_DIR")
    imp.add_argument("--workspace", required=True, metavar="WS")
    imp.add_argument("--name", default=None, help="run name (default: the run's own name)")
    imp.set_defaults(func=run_import)
    ls = s.add_parser("list", help="list the runs a workspace knows, newest first")
    ls.add_argument("--workspace", required=True, metavar="WS")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)


def run_import(args: argparse.Namespace) -> int:
    from ..train.registry import import_predictions

    try:
        dest = import_predictions(args.run_dir, args.workspace, name=args.name)
    except (FileNotFoundError, ValueError) as e:
        return fail(str(e))
    print(f"imported {args.run_dir} -> {dest}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from ..train.registry import list_runs

    runs = list_runs(args.workspace)
    if args.json:
        print_json(runs.drop(columns="path").to_dict(orient="records"))
    elif runs.empty:
        print("no runs imported yet")
    else:
        print(runs.drop(columns="path").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0
