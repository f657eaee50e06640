"""``labelscope scan DATASET [--workspace WS] [--layout L] [--workers N] [--json]``.

Decodes every image once (in parallel, only those changed since the last scan) and writes
features and thumbnails to the workspace. Validation warnings are counted but do not stop
the scan; a dataset that cannot be used at all exits 1 with its errors.
"""
from __future__ import annotations

import argparse
import sys

from .common import load_usable, add_background_arg, add_dataset_args, fail, print_json, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="decode every image once: features, hashes, thumbnails (incremental)",
                       description="Scan a dataset into its workspace. Unchanged images (same path, size, "
                                   "mtime and scanner version) are not decoded again; an interrupted scan "
                                   "resumes where it stopped.")
    add_dataset_args(p)
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes to decode with (default: every core; 1 = in this process)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    add_background_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..scan import ScanBusyError, scan_dataset
    from .progress import ProgressLine

    if args.workers is not None and args.workers < 1:
        return fail("--workers must be at least 1")
    settings = settings_from(args)
    manifest = load_usable(settings)
    if manifest is None:
        return 1
    if manifest.warnings:
        print(f"{len(manifest.warnings)} validation warnings (rows left out); see `labelscope check "
              f"{settings.dataset}`", file=sys.stderr)
    line = ProgressLine("scanned")
    try:
        summary = scan_dataset(settings.dataset, settings.workspace, manifest=manifest, workers=settings.workers,
                               progress=line)
    except ScanBusyError as e:
        return fail(str(e))
    finally:
        line.close()
    d = summary.to_dict()
    d["warnings"] = len(manifest.warnings)
    d["unreadable_files"] = unreadable_files(summary.workspace) if summary.unreadable else []
    if args.json:
        print_json(d)
        return 0
    print(f"{summary.total} images: {summary.decoded} decoded, {summary.cached} cached, "
          f"{summary.unreadable} unreadable, {summary.removed} removed in {summary.seconds:.1f}s "
          f"-> {summary.workspace}")
    for f in d["unreadable_files"][:SHOW]:
        print(f"  unreadable: {f['image_id']}: {f['error']}")
    if summary.unreadable > SHOW:
        print(f"  ... and {summary.unreadable - SHOW} more (--json lists them all)")
    return 0


SHOW = 10


def unreadable_files(workspace: str) -> list[dict[str, str]]:
    """``[{image_id, error}]`` of every image the scan could not decode."""
    from ..scan import load_features

    df = load_features(workspace, columns=["error"])
    bad = df[df["error"].fillna("") != ""]
    return [{"image_id": i, "error": e} for i, e in zip(bad["image_id"], bad["error"])]
