"""Transform order and decode options on the demo images: ratios measured in one run.

    python bench/feeding.py [DATASET] [--images 32] [--rounds 5] [--size 512]

DATASET defaults to ``data/demo`` (generated with ``labelscope.demo.make_demo`` when missing).
Figures, all on the same decoded images in this run:

- transform order: ``Resize(size)`` then ``RandomRotation`` versus the two swapped, one
  torch thread (as inside a DataLoader worker), same angles; the time ratio of each round
  and its median (the seed's point: resizing up first makes the rotation do more work);
- decode options: images/s of a full PIL decode, PIL JPEG draft, OpenCV full and reduced
  (1/2, 1/4) decodes, and the scan's cached thumbnails when a scan exists, with the speed-up
  over the full decode (median over rounds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from labelscope.config import default_workspace  # noqa: E402
from labelscope.dataset import load_dataset  # noqa: E402
from labelscope.feeding import compare_decoders, compare_transform_orders  # noqa: E402
from labelscope.feeding.dataset import sample_ids  # noqa: E402
from labelscope.feeding.orders import images_from_paths  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", nargs="?", default="data/demo")
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--img-size", type=int, default=128)
    a = ap.parse_args()
    if not Path(a.dataset, "train.csv").exists():
        from labelscope.demo import make_demo

        print(f"making the demo dataset in {a.dataset}…", file=sys.stderr)
        make_demo(a.dataset, people=200)
    m = load_dataset(a.dataset)
    ids = sample_ids(m, a.images, seed=0)
    paths = [m.path_of(i) for i in ids]
    imgs = images_from_paths(paths)
    h, w = imgs[0].shape[-2:]
    ratios, rows = [], []
    for r in range(a.rounds):
        c = compare_transform_orders(imgs, size=a.size, repeats=1, seed=r)
        ratios.append(c.ratio)
        rows.append(c.table.assign(round=r))
    orders = pd.concat(rows).groupby("order", sort=False)[["images_per_s", "ms_per_image"]].median()
    print(f"transform order on {len(imgs)} demo images of {w}x{h}, resize to {a.size} (short side), "
          f"RandomRotation(10), 1 thread, median of {a.rounds} rounds:")
    print(orders.round(1).to_string())
    print(f"resize->rotate / rotate->resize time ratio: median {statistics.median(ratios):.2f} "
          f"(rounds {', '.join(f'{x:.2f}' for x in ratios)}); same output size: {c.same_size} ({c.table['out_size'][0]})")
    ws = default_workspace(a.dataset)
    thumbs = None
    if (ws / "thumbs.parquet").exists():
        from labelscope.scan import load_thumbs

        thumbs = lambda i: load_thumbs(ws, i)  # noqa: E731
    dec = pd.concat([compare_decoders(paths, target=a.img_size, image_ids=ids, thumbs=thumbs, repeats=1)
                     for _ in range(a.rounds)])
    summary = dec.groupby("method", sort=False).agg(images_per_s=("images_per_s", "median"),
                                                    speedup=("speedup", "median"), width=("width", "first"),
                                                    height=("height", "first"),
                                                    enough=("enough_pixels", "first"))
    print(f"\ndecode options on the same {len(paths)} files, enough = short side >= {a.img_size}, "
          f"median of {a.rounds} rounds:")
    print(summary.round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
