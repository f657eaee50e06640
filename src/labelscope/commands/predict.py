"""``labelscope predict RUN_DIR IMAGES --out submission.csv [--tta] [--score TRUTH]``: the
competition's submission from a run's k fold models (see ``labelscope.train.predict``)."""
from __future__ import annotations

import argparse
import sys

from .common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict images with a run's fold models; write a submission CSV",
                       description="Average the k fold models of RUN_DIR over IMAGES (a folder with info.csv and "
                                   "images/, or a folder of images) and write ImageID,ans (class index 0..17). "
                                   "An unreadable image gets the class most frequent in the run's training "
                                   "labels, and a warning names it.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("images", metavar="IMAGES")
    p.add_argument("--out", required=True, metavar="CSV")
    p.add_argument("--tta", action="store_true", help="also average over the horizontally flipped image")
    p.add_argument("--score", metavar="TRUTH", default=None, help="print macro-F1 and accuracy against ImageID,ans")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    from ..train.predict import predict_images, score_submission, write_submission

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame, bad = predict_images(args.run_dir, args.images, tta=args.tta, batch_size=args.batch_size,
                                        device=args.device)
        for w in caught:
            print(f"labelscope predict: warning: {w.message}", file=sys.stderr)
        write_submission(frame, args.out)
        print(f"wrote {len(frame)} rows to {args.out} ({len(bad)} unreadable, given the fallback answer)",
              file=sys.stderr)
        if args.score:
            s = score_submission(args.out, args.score)
            print(f"macro-F1 {s['macro_f1']:.4f}, accuracy {s['accuracy']:.4f} on {s['images']} images")
    except (ValueError, FileNotFoundError, OSError) as e:
        return fail(str(e))
    return 0
