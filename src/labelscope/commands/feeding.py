"""``labelscope feeding DATASET``: is the loader or the model the bottleneck?

    labelscope feeding data/demo
    labelscope feeding data/demo --model resnet18 --batch-sizes 32,64 --workers 0,2 --json
"""
from __future__ import annotations

import argparse
import sys

from .common import add_dataset_args, fail, print_json


def _int_list(text: str) -> list[int]:
    try:
        vals = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return vals


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("feeding", help="measure whether the data loader or the model limits training speed",
                       description="Times the training loader alone (decode, transforms, collate) at each batch "
                                   "size and worker count, and the model alone on synthetic tensors, then says "
                                   "per setting which is slower and by how much. Also compares two transform "
                                   "orders and the decode options.")
    add_dataset_args(p)
    p.add_argument("--model", default="small", choices=["small", "resnet18", "vgg16"])
    p.add_argument("--img-size", type=int, default=128, metavar="S", help="training image size (default 128)")
    p.add_argument("--batch-sizes", type=_int_list, default=[16, 32, 64, 128], metavar="B,B,...")
    p.add_argument("--workers", type=_int_list, default=[0, 1, 2], metavar="W,W,...",
                   help="DataLoader worker counts to try (default 0,1,2)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")
    p.add_argument("--batches", type=int, default=2, metavar="N", help="batches timed per setting (default 2)")
    p.add_argument("--max-seconds", type=float, default=2.0, metavar="S",
                   help="per setting, stop timing after S seconds (at least one batch; default 2; 0: no limit)")
    p.add_argument("--warmup", type=int, default=1, metavar="N",
                   help="warm-up rounds not timed (one batch per worker each; default 1)")
    p.add_argument("--decode", default="reduced", choices=["reduced", "full"],
                   help="JPEG decode of the loader: reduced (training's default) or full")
    p.add_argument("--crop", default="none", choices=["none", "center", "faces"])
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="torch CPU threads while measuring (default 0: torch's default, the number of cores)")
    p.add_argument("--freeze-backbone", action="store_true", help="time the model with only its head trained")
    p.add_argument("--sample", type=int, default=16, metavar="N",
                   help="images for the transform-order and decode comparisons (default 16)")
    p.add_argument("--no-orders", action="store_true", help="skip the transform-order comparison")
    p.add_argument("--no-decode", action="store_true", help="skip the decode-options comparison")
    p.add_argument("--json", action="store_true", help="print the measurements and verdicts as JSON")
    p.set_defaults(func=run)


def _progress(done: int, total: int, what: str) -> None:
    print(f"\r[{done}/{total}] {what:<40}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from ..dataset import DatasetError
    from ..feeding import feeding_report

    try:
        report = feeding_report(
            args.dataset, model=args.model, img_size=args.img_size, batch_sizes=args.batch_sizes,
            workers=args.workers, device=args.device, batches=args.batches, warmup=args.warmup,
            decode=args.decode, crop=args.crop, freeze_backbone=args.freeze_backbone, threads=args.threads,
            max_seconds=args.max_seconds or None, layout=args.layout,
            workspace=args.workspace, compare_orders=not args.no_orders, compare_decode=not args.no_decode,
            sample=args.sample, progress=_progress)
    except DatasetError as e:
        return fail(f"{args.dataset}: {e}")
    except ValueError as e:
        return fail(str(e))
    if args.json:
        print_json(report.to_dict())
        return 0
    print_text(report)
    return 0


def print_text(report) -> None:  # noqa: ANN001 - FeedingReport (imported lazily)
    c = report.config
    print(f"{c['dataset']}: {c['images']} images, model {c['model']} at {c['img_size']} px on {c['device']} "
          f"({c['cpu_count']} cores), up to {c['batches']} batch(es) timed per setting after {c['warmup']} warm-up")
    print()
    print(f"{'batch':>6} {'workers':>7} {'loader img/s':>13} {'model img/s':>12} {'verdict':>14} {'by':>7} "
          f"{'mem MiB':>8}")
    for r in report.verdicts.itertuples(index=False):
        mem = getattr(r, "loader_mem_mb", float("nan")) + getattr(r, "model_mem_mb", 0.0)
        print(f"{r.batch_size:>6} {r.workers:>7} {r.loader_ips:>13.1f} {r.model_ips:>12.1f} "
              f"{r.bound + '-bound':>14} {r.factor:>6.1f}x {mem:>8.0f}")
    if report.orders is not None:
        o = report.orders
        print()
        print("transform order (same images, best of %d):" % o.repeats)
        for r in o.table.itertuples(index=False):
            print(f"  {r.order:<20} {r.images_per_s:>8.1f} img/s  {r.ms_per_image:>7.1f} ms/img  out {r.out_size}")
        print(f"  ratio {o.ratio:.2f} (first / second in time); same output size: {'yes' if o.same_size else 'no'}")
    if report.decode is not None and len(report.decode):
        print()
        print("decode options:")
        for r in report.decode.itertuples(index=False):
            print(f"  {r.method:<14} {r.images_per_s:>8.1f} img/s  {r.speedup:>5.2f}x  {r.width:>4.0f}x{r.height:<4.0f}"
                  f"  {'enough' if r.enough_pixels else 'too small'} for {c['img_size']} px")
    print()
    for s in report.suggestions:
        print(f"- {s}")
