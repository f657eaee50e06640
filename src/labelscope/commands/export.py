"""``labelscope export DATASET [--out DIR] [--tree DIR]``: today's corrected labels.

    labelscope export data/demo --out data/demo-fixed          # labels.csv, train.csv, summary.json
    labelscope export data/demo --tree data/demo-tree          # the corrected dataset, source layout
"""
from __future__ import annotations

import argparse

from .common import add_dataset_args, fail, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write corrected labels (labels.csv, train.csv, summary.json) "
                                      "or the corrected dataset tree",
                       description="Files are replaced atomically; rerunning with no new decisions "
                                   "writes byte-identical files. --tree writes the corrected dataset in "
                                   "its own layout (hard links to the source images, copies otherwise).")
    add_dataset_args(p)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for the label files (default: WS/exports when --tree is not given)")
    p.add_argument("--tree", default=None, metavar="DIR",
                   help="write the corrected dataset here: competition layout train.csv + images/<person>/, "
                        "ImageFolder class folders; excluded images left out")
    p.add_argument("--copy", action="store_true", help="with --tree: copy images instead of hard-linking")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..dataset import DatasetError, load_dataset
    from ..review import ReviewError, export_labels, export_tree, open_review_store
    from ..workspace import Workspace

    s = settings_from(args)
    out = args.out or (None if args.tree else str(Workspace(s.workspace).exports))
    target = out
    try:
        manifest = load_dataset(s.dataset, s.layout)
        store = open_review_store(s, read_only=True)  # export only reads the decisions
        if out:
            result = export_labels(manifest, store, out)
            print(f"exported {result.rows:,} images ({result.changed:,} changed, {result.excluded:,} excluded; "
                  f"events up to #{result.last_event_id}) to {result.out_dir}")
            for name, path in result.files.items():
                print(f"  {path}")
        if args.tree:
            target = args.tree
            tree = export_tree(manifest, store, args.tree, link=not args.copy)
            print(f"wrote the corrected tree: {tree.images:,} images ({tree.linked:,} hard links, "
                  f"{tree.copied:,} copies; {tree.excluded:,} excluded left out; events up to "
                  f"#{tree.last_event_id}) to {tree.out_dir}")
            for old, new in sorted(tree.renamed.items()):
                print(f"  renamed {old} -> {new}")
            for image_id, why in tree.left_out:
                print(f"  left out {image_id}: {why}")
            if len(tree.inconsistent):
                print(f"  {tree.inconsistent['group_id'].nunique():,} person(s) left inconsistent "
                      "(the tree carries each one's most common value):")
                for r in tree.inconsistent.itertuples(index=False):
                    print(f"    {r.group_id} {r.field}: {r.values}")
    except (DatasetError, ReviewError) as e:
        return fail(str(e))
    except OSError as e:  # disk full, permissions...: atomic writes left the previous export whole
        return fail(f"export to {target} failed, the previous export is kept: {e.strerror or e}"
                    f"{f' ({e.filename})' if e.filename else ''}")
    return 0
