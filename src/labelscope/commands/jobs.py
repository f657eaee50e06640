"""``labelscope jobs list|cancel|wait DATASET [--workspace WS]``: the workspace's background jobs.

Long commands take ``--background`` to run as the workspace's job of their kind (one at a
time; progress with rate and ETA in ``WS/jobs/<kind>.json``, output in ``WS/jobs/<kind>.log``);
the app starts the same jobs.

    labelscope suspects data/demo --out suspects.csv --background
    labelscope jobs list data/demo
    labelscope jobs wait data/demo suspects
    labelscope jobs cancel data/demo suspects
"""
from __future__ import annotations

import argparse
import sys

from .common import add_dataset_args, fail, print_json, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("jobs", help="list, wait for or cancel the background jobs of a dataset's workspace",
                       description="Background jobs are started with --background (scan, faces, embed, "
                                   "suspects, train) or from the app.")
    s = p.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="every job of the workspace: state, progress, rate, ETA")
    add_dataset_args(ls)
    ls.add_argument("--json", action="store_true", help="the progress files as JSON")
    ls.set_defaults(func=run_list)
    for name, func, what in (("cancel", run_cancel, "stop a running job (it records \"cancelled\")"),
                             ("wait", run_wait, "wait until a job has ended; exit 0 only if it succeeded")):
        c = s.add_parser(name, help=what)
        add_dataset_args(c)
        c.add_argument("kind", metavar="KIND", help="the job's kind (its command: suspects, faces, ...)")
        c.add_argument("--timeout", type=float, default=None, metavar="S", help="give up after S seconds")
        c.set_defaults(func=func)


def _workspace(args: argparse.Namespace):
    return settings_from(args).workspace


def run_list(args: argparse.Namespace) -> int:
    from ..jobs import describe, list_jobs

    jobs = list_jobs(_workspace(args))
    if args.json:
        print_json([j.to_dict() for j in jobs])
    elif not jobs:
        print("no background jobs in this workspace yet")
    for j in [] if args.json else jobs:
        print(f"{j.kind:<10} {j.state:<9} {describe(j)}  (pid {j.pid}, started {j.started})")
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from ..jobs import cancel, describe

    state = cancel(_workspace(args), args.kind, timeout=args.timeout or 10.0)
    if state is None:
        return fail(f"no {args.kind} job in this workspace")
    print(f"{state.kind}: {state.state} ({describe(state)})")
    return 0


def run_wait(args: argparse.Namespace) -> int:
    from ..jobs import describe, wait

    state = wait(_workspace(args), args.kind, timeout=args.timeout)
    if state is None:
        return fail(f"no {args.kind} job in this workspace")
    print(f"{state.kind}: {state.state} ({describe(state)})")
    return 0 if state.state == "done" else 1


def start_background(args: argparse.Namespace, argv: list[str]) -> int:
    """``labelscope COMMAND ... --background``: the same command line, started as a job."""
    from ..config import default_workspace
    from ..jobs import JobBusy, start

    if getattr(args, "labels_csv", None) is not None:  # train: its workspace, else the dataset's
        ws = args.workspace or default_workspace(args.dataset)
    else:
        ws = _workspace(args)
    rest = [a for a in argv if a != "--background"]
    try:
        state = start(ws, args.command, rest)
    except JobBusy as e:
        return fail(str(e), code=3)
    print(f"started the {state.kind} job (pid {state.pid}); progress: `labelscope jobs list {args.dataset}`, "
          f"output: {state.log}", file=sys.stderr)
    return 0
