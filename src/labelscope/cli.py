"""The ``labelscope`` command. Each command group lives in ``labelscope.commands.<name>``.

A command module exposes ``register(subparsers)``, which adds its parser(s) and sets
``func`` (a callable taking the parsed args and returning an exit code). Modules import heavy
libraries inside their handlers so ``labelscope --help`` stays fast.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import sys

from . import __version__

COMMAND_MODULES = ("check", "demo", "scan", "review", "export", "train", "predictions", "suspects", "embed", "feeding", "faces", "jobs", "predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labelscope",
        description="Look into an image-classification dataset, find wrong labels, fix them, train on them.",
    )
    parser.add_argument("--version", action="version", version=f"labelscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"labelscope.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; inside a background job (``labelscope.jobs``) it also keeps the job's
    progress file, and ``--background`` starts the command as such a job instead."""
    from .jobs import run_in_job

    return run_in_job(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if getattr(args, "background", False):
        from .commands.jobs import start_background

        return start_background(args, sys.argv[1:] if argv is None else list(argv))
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted; work finished so far is kept", file=sys.stderr)
        return 130
    except Exception as e:  # the ones a user can act on, said plainly; anything else is a bug: traceback
        from .commands.common import fail
        from .review.errors import ReviewError

        if isinstance(e, ReviewError):
            return fail(str(e))
        if isinstance(e, OSError) and e.errno == errno.ENOSPC:
            where = f" ({e.filename})" if e.filename else ""
            return fail(f"the disk is full{where}: nothing already written is lost (files are replaced "
                        "atomically, a scan keeps its finished chunks and resumes, the review database rolled "
                        "the batch back); free some space and run the command again")
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
