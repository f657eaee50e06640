"""``labelscope demo OUT [--people N] [--seed S] [--noise-rate R] [--workers N] [--overwrite]``."""
from __future__ import annotations

import argparse
import sys
import time

from .common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write a synthetic demo dataset (competition layout) with known label noise",
                       description="Draw N people x 7 photos (384x512 JPEG) into OUT as train.csv + images/, "
                                   "inject label noise and record it in OUT/noise_truth.csv.")
    p.add_argument("out", metavar="OUT", help="output folder (new, empty, or a previous demo with --overwrite)")
    p.add_argument("--people", type=int, default=200, help="number of people (default 200 = 1,400 images)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed, same bytes (default 0)")
    p.add_argument("--noise-rate", type=float, default=0.1,
                   help="fraction of people with a wrong gender, a wrong age and swapped files, each (default 0.1)")
    p.add_argument("--workers", type=int, default=None, help="drawing processes (default: CPU count)")
    p.add_argument("--overwrite", action="store_true", help="replace a previous demo in OUT")
    p.add_argument("--eval-people", type=int, default=-1, metavar="N",
                   help="also write a competition-style eval set of N other people to OUT/eval (info.csv + "
                        "images/; truth in OUT/eval_truth.csv, never read by the app); default 10%% of --people, "
                        "at least 2; 0: none")
    p.set_defaults(func=run)


class _Progress:
    """One updating stderr line: done/total images and the drawing rate."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        from ..jobs import report

        report("drawing", done, total)  # the progress file, inside a background job
        now = time.perf_counter()
        if done < total and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        line = f"drawing {done}/{total} images ({rate:.0f} img/s)"
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if done >= total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from ..demo import make_demo

    try:
        summary = make_demo(args.out, people=args.people, seed=args.seed, noise_rate=args.noise_rate,
                            workers=args.workers, overwrite=args.overwrite, progress=_Progress())
        n_eval = args.eval_people if args.eval_people >= 0 else max(2, round(args.people * 0.1))
        if n_eval:
            from ..demo.evalset import make_eval_set

            ev = make_eval_set(summary.out, people=n_eval, seed=args.seed, first_index=args.people,
                               workers=args.workers)
            print(f"eval set: {n_eval * 7} images of {n_eval} other people in {ev} (truth in "
                  f"{summary.out / 'eval_truth.csv'})")
    except (FileExistsError, ValueError) as e:
        return fail(str(e))
    print(summary)
    return 0
