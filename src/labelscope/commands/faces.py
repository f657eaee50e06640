"""``labelscope faces DATASET [--workspace WS] [--backend mtcnn|yunet] [--yunet-model PATH] [--json]``.

Detects faces once per image (only images changed since the last run) and caches the boxes in
the workspace (``faces.parquet``: the main face per image; ``faces_all.parquet``: every box).
Progress goes to stderr. Nothing is downloaded: MTCNN's weights ship in facenet-pytorch's
wheel, YuNet needs a local ONNX file.
"""
from __future__ import annotations

import argparse

from .common import load_usable, add_background_arg, add_dataset_args, fail, print_json, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("faces", help="detect faces once per image and cache the boxes (incremental)",
                       description="Run a face detector on every image of a dataset and cache the boxes in "
                                   "its workspace. Unchanged images are not decoded again.")
    add_dataset_args(p)
    p.add_argument("--backend", default="mtcnn", choices=["mtcnn", "yunet"],
                   help="mtcnn (default; weights ship with facenet-pytorch) or yunet (needs --yunet-model)")
    p.add_argument("--yunet-model", metavar="PATH", default=None, help="a local YuNet ONNX file")
    p.add_argument("--max-side", type=int, default=512, metavar="PX",
                   help="decode and resize images to at most this many pixels per side (default 512)")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="torch threads for MTCNN (default 1)")
    p.add_argument("--force", action="store_true", help="detect again even where the cache is valid")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    add_background_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..faces import detect_faces
    from .progress import ProgressLine

    if args.backend == "yunet" and not args.yunet_model:
        return fail("--backend yunet needs --yunet-model PATH (a local ONNX file; nothing is downloaded)")
    if args.max_side < 64:
        return fail("--max-side must be at least 64")
    settings = settings_from(args)
    manifest = load_usable(settings)
    if manifest is None:
        return 1
    line = ProgressLine("faces")
    try:
        summary = detect_faces(settings.dataset, settings.workspace, backend=args.backend, manifest=manifest,
                               progress=line, force=args.force, max_side=args.max_side,
                               yunet_model=args.yunet_model, threads=args.threads)
    except (FileNotFoundError, ImportError, ValueError) as e:
        return fail(str(e))
    finally:
        line.close()
    if args.json:
        print_json(summary.to_dict())
    else:
        print(f"{summary.total} images: {summary.detected} detected ({summary.images_per_s} img/s), "
              f"{summary.cached} cached; {summary.with_face} with a face, {summary.no_face} without, "
              f"{summary.multi_face} with several, {summary.unreadable} unreadable in {summary.seconds:.1f}s "
              f"-> {summary.workspace}")
    return 0
