"""``labelscope embed DATASET [--workspace WS] [--embedder NAME ...] [--project pca|tsne|umap]``.

Computes (or brings up to date) the cached embeddings of a dataset, and optionally their 2-D
projection. ``--list`` shows every embedder, whether it is usable here, and why not.

    labelscope embed data/demo                        # effnet (default), pixels where unavailable
    labelscope embed data/demo --embedder effnet --embedder face --project umap
    labelscope embed data/demo --list
"""
from __future__ import annotations

import argparse
import time

from .common import load_usable, add_background_arg, add_dataset_args, fail, print_json, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("embed", help="compute cached embeddings (pixels, colour, effnet, face, ...) and 2-D maps",
                       description="Embed every image with the chosen embedders; cached in the workspace, "
                                   "so a rerun only embeds new or changed images. Weights come from installed "
                                   "packages or files already on disk, never a download.")
    add_dataset_args(p)
    p.add_argument("--embedder", action="append", default=None, metavar="NAME",
                   help="an embedder name (repeatable); default: effnet where available, else pixels")
    p.add_argument("--project", choices=["pca", "tsne", "umap"], default=None,
                   help="also compute (and cache) this 2-D projection of each embedding")
    p.add_argument("--force", action="store_true", help="recompute even when the cache is current")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="images per forward pass (default 32)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for torch (default: all)")
    p.add_argument("--list", action="store_true", help="list the embedders and whether each is usable here")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_background_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..embed import EMBEDDERS, availability, compute_embeddings, project
    from ..workspace import Workspace
    from .progress import ProgressLine

    settings = settings_from(args)
    ws = Workspace(settings.workspace)
    avail = availability(ws)
    if args.list:
        rows = [{"name": n, "available": ok, "reason": why, "dim": EMBEDDERS[n].dim, "licence": EMBEDDERS[n].licence,
                 "title": EMBEDDERS[n].title} for n, (ok, why) in avail.items()]
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                print(f"{r['name']:<12} {'yes' if r['available'] else 'no ':<4} {r['title']} -- {r['reason']}")
        return 0
    names = args.embedder or (["effnet"] if avail["effnet"][0] else ["pixels"])
    unknown = [n for n in names if n not in EMBEDDERS]
    if unknown:
        return fail(f"unknown embedder(s) {', '.join(unknown)}; known: {', '.join(EMBEDDERS)}")
    missing = [f"{n}: {avail[n][1]}" for n in names if not avail[n][0]]
    if missing:
        return fail("not available here -- " + "; ".join(missing))
    if args.batch_size < 1 or (args.threads is not None and args.threads < 1):
        return fail("--batch-size and --threads must be at least 1")
    manifest = load_usable(settings)
    if manifest is None:
        return 1
    summary = []
    for name in names:
        line = ProgressLine(f"embedded ({name})")
        t0 = time.perf_counter()
        try:
            emb = compute_embeddings(manifest, ws, name, progress=line, force=args.force,
                                     batch_size=args.batch_size, threads=args.threads)
        finally:
            line.close()
        row = {"embedder": name, "images": len(emb), "dim": emb.dim, "embedded": emb.meta.get("embedded", 0),
               "reused": emb.meta.get("reused", 0), "missing": len(emb.missing),
               "seconds": round(time.perf_counter() - t0, 2)}
        if args.project:
            t1 = time.perf_counter()
            project(emb, args.project, workspace=ws)
            row["projection"] = args.project
            row["projection_seconds"] = round(time.perf_counter() - t1, 2)
        summary.append(row)
        if not args.json:
            extra = f", {args.project} map in {row['projection_seconds']}s" if args.project else ""
            print(f"{name}: {row['images']} images x {row['dim']} ({row['embedded']} embedded, {row['reused']} "
                  f"cached, {row['missing']} unreadable left out) in {row['seconds']}s{extra}")
    if args.json:
        print_json({"workspace": str(ws.root), "embeddings": summary})
    return 0
