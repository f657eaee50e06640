"""Scan throughput against decode-only throughput of the same files, in one run.

    python bench/scan.py [DATASET] [--rounds 3] [--people 200] [--parallel 2]

DATASET defaults to ``data/demo`` (generated there with ``labelscope.demo.make_demo`` when
missing). Every figure is measured in this run on the same files, with the page cache warm:

- decode-only: ``Image.open(path).convert("RGB")`` on every file (PIL open + load + convert),
  as a user would write it (Pillow defaults); also with the Pillow block cache the scan uses;
- scan: ``scan_dataset(workers=1)`` into a fresh workspace in a temp dir (stat, decode, every
  feature, thumbnails, chunk parts and the final merge included);
- the scan with ``--parallel`` workers (default 2) and with all cores when there are more.

Rounds alternate decode-only and scan so that a change in machine load hits both; each
figure is the median over rounds, and the ratio is the median of the per-round ratios.
Target: scan (workers=1) >= 60% of the decode-only rate. CPU seconds (``process_time``)
are printed too: on a shared machine they are steadier than wall time.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.60


def decode_only(paths: list[Path]) -> None:
    from PIL import Image

    for p in paths:
        try:
            with Image.open(p) as im:
                im.convert("RGB")
        except Exception:  # the unreadable files cost what they cost in both measurements
            pass


def decode_cv2(paths: list[Path]) -> None:
    """The issue's reference: a plain ``cv2.imdecode`` loop over the file bytes (one OpenCV thread)."""
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    for p in paths:
        cv2.imdecode(np.fromfile(p, dtype=np.uint8), cv2.IMREAD_COLOR)


def timed(fn) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, minor page faults) of ``fn()`` in this process."""
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0


def fresh_scan(dataset: Path, manifest, workers: int) -> None:
    from labelscope.scan import scan_dataset

    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        s = scan_dataset(dataset, Path(tmp) / "ws", manifest=manifest, workers=workers)
        assert s.decoded == s.total, s


@contextlib.contextmanager
def pillow_blocks(n: int):
    from PIL import Image

    old = Image.core.get_blocks_max()
    Image.core.set_blocks_max(n)
    try:
        yield
    finally:
        Image.core.set_blocks_max(old)


def ensure_dataset(path: Path, people: int) -> Path:
    if path.exists():
        return path
    try:
        from labelscope.demo import make_demo
    except ImportError:
        sys.exit(f"{path} does not exist and labelscope.demo is not available; pass a DATASET")
    print(f"generating the demo dataset ({people} people) into {path} ...", file=sys.stderr)
    make_demo(path, people=people)
    return path


def describe_files(paths: list[Path]) -> str:
    from PIL import Image

    sizes: dict[tuple, int] = {}
    for p in paths[:200]:
        try:
            with Image.open(p) as im:
                sizes[(im.format, im.size)] = sizes.get((im.format, im.size), 0) + 1
        except Exception:
            continue
    (fmt, (w, h)), _ = max(sizes.items(), key=lambda kv: kv[1]) if sizes else (("?", (0, 0)), 0)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    return f"mostly {w}x{h} {fmt}, {mb:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", nargs="?", default="data/demo")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--people", type=int, default=200, help="demo size when the dataset must be generated")
    ap.add_argument("--parallel", type=int, default=2, help="workers for the parallel figure")
    args = ap.parse_args(argv)

    from labelscope.dataset import load_dataset
    from labelscope.scan.worker import pillow_block_cache

    dataset = ensure_dataset(Path(args.dataset), args.people)
    manifest = load_dataset(dataset)
    paths = manifest.paths()
    n = len(paths)
    for p in paths:  # warm the page cache: every figure reads from memory
        p.read_bytes()
    print(f"dataset: {dataset} ({n} images, {describe_files(paths)}); {os.cpu_count()} cores; "
          f"{args.rounds} rounds")

    dec, dec_cached, scan, ratios, strict, cpu_ratios, faults = [], [], [], [], [], [], {}
    cv_ratios: list[float] = []
    decode_only(paths[:50])
    fresh_scan(dataset, manifest.with_df(manifest.df.head(50)), 1)  # warm imports
    for _ in range(args.rounds):
        with pillow_blocks(0):
            d_wall, d_cpu, faults["decode"] = timed(lambda: decode_only(paths))
        with pillow_block_cache():
            dc_wall, _, faults["decode_cached"] = timed(lambda: decode_only(paths))
        s_wall, s_cpu, faults["scan"] = timed(lambda: fresh_scan(dataset, manifest, 1))
        cv_wall = timed(lambda: decode_cv2(paths))[0]
        cv_ratios.append(cv_wall / s_wall)
        dec.append(n / d_wall)
        dec_cached.append(n / dc_wall)
        scan.append(n / s_wall)
        ratios.append(d_wall / s_wall)
        strict.append(dc_wall / s_wall)
        cpu_ratios.append(d_cpu / s_cpu)

    med = statistics.median
    print(f"decode-only, PIL open+load+convert RGB (Pillow defaults):  {med(dec):8.1f} img/s")
    print(f"decode-only, same with the scan's Pillow block cache:      {med(dec_cached):8.1f} img/s")
    print(f"scan, workers=1, fresh workspace (all features, thumbs):   {med(scan):8.1f} img/s")
    ratio = med(ratios)
    print(f"ratio scan / decode-only (wall, median of rounds):         {ratio:8.2f}   "
          f"target >= {TARGET:.2f}: {'met' if ratio >= TARGET else 'NOT met'}")
    print(f"ratio scan / decode-only with block cache (wall, median):  {med(strict):8.2f}")
    cv = med(cv_ratios)
    print(f"ratio scan / plain cv2.imdecode loop (wall, median):        {cv:8.2f}   "
          f"target >= {TARGET:.2f} (issue 11): {'met' if cv >= TARGET else 'NOT met'}")
    print(f"ratio scan / decode-only (CPU seconds, median of rounds):  {med(cpu_ratios):8.2f}")
    print("minor page faults per image (decode-only, with block cache, scan): "
          + ", ".join(f"{faults[k] / n:.0f}" for k in ("decode", "decode_cached", "scan")))

    for w in sorted({args.parallel, os.cpu_count() or 1} - {1}):
        walls = [timed(lambda: fresh_scan(dataset, manifest, w))[0] for _ in range(max(1, args.rounds // 2))]
        rate = n / med(walls)
        print(f"scan, workers={w}, fresh workspace (pool start included):  {rate:8.1f} img/s  "
              f"({rate / med(scan):.2f}x workers=1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
