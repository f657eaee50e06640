"""Arguments and helpers shared by command modules."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import Settings


def add_dataset_args(p: argparse.ArgumentParser, *, workspace: bool = True) -> None:
    """``DATASET`` (folder, or the CSV file) plus ``--layout`` and ``--workspace``."""
    p.add_argument("dataset", metavar="DATASET", help="dataset folder, or the CSV file for the CSV layout")
    # dataset.LAYOUTS, written out: importing dataset (pandas) would slow every --help
    p.add_argument("--layout", default="auto", choices=["auto", "mask", "folder", "csv", "attrs"])
    if workspace:
        p.add_argument("--workspace", metavar="WS", default=None,
                       help="workspace folder (default: .labelscope/ in the dataset's folder)")
        p.add_argument("--db", metavar="URL", default=None,
                       help="review store: postgresql://user:pw@host:port/db or sqlite:///path (default: "
                            "$LABELSCOPE_DB, else review.sqlite in the workspace)")


def settings_from(args: argparse.Namespace) -> Settings:
    s = Settings.build(args.dataset, workspace=getattr(args, "workspace", None),
                       layout=getattr(args, "layout", None), workers=getattr(args, "workers", None))
    return s.with_(db_url=args.db) if getattr(args, "db", None) else s


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def fail(msg: str, code: int = 1) -> int:
    from ..jobs import note_error

    note_error(msg)  # what a background job records as its error
    print(f"labelscope: error: {msg}", file=sys.stderr)
    return code


def add_background_arg(p: argparse.ArgumentParser) -> None:
    """``--background``: run as the workspace's background job of this command (``labelscope jobs``)."""
    p.add_argument("--background", action="store_true",
                   help="start as a background job and return at once (progress: `labelscope jobs list`)")


def load_usable(settings: Settings):
    """The dataset's Manifest, or None after printing why it cannot be used (exit with 1 then)."""
    from ..dataset import check_dataset

    manifest = check_dataset(settings.dataset, settings.layout)
    if manifest.errors:
        for prob in manifest.errors:
            print(f"  {prob}", file=sys.stderr)
        fail(f"{settings.dataset} cannot be used ({len(manifest.errors)} errors); see `labelscope check`")
        return None
    return manifest
