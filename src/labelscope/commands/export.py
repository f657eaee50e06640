"""``labelscope export DATASET --out DIR``: today's corrected labels as CSV files.

    labelscope export data/demo --out data/demo-fixed
"""
from __future__ import annotations

import argparse

from .common import add_dataset_args, fail, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write corrected labels (labels.csv, train.csv, summary.json)",
                       description="Files are replaced atomically; rerunning with no new decisions "
                                   "writes byte-identical files.")
    add_dataset_args(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..dataset import DatasetError, load_dataset
    from ..review import ReviewError, export_labels, open_review_store

    s = settings_from(args)
    try:
        manifest = load_dataset(s.dataset, s.layout)
        result = export_labels(manifest, open_review_store(s), args.out)
    except (DatasetError, ReviewError) as e:
        return fail(str(e))
    except OSError as e:  # disk full, permissions...: atomic writes left the previous export whole
        return fail(f"export to {args.out} failed, the previous export is kept: {e.strerror or e}"
                    f"{f' ({e.filename})' if e.filename else ''}")
    print(f"exported {result.rows:,} images ({result.changed:,} changed, {result.excluded:,} excluded; "
          f"events up to #{result.last_event_id}) to {result.out_dir}")
    for name, path in result.files.items():
        print(f"  {path}")
    return 0
