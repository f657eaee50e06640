"""Review store timings at 20,000 images and 50,000 events (targets: < 50 ms per action, < 1 s for current_labels).

    python bench/review.py [--images 20000] [--events 50000] [--repeat 30]

Builds an in-memory mask-layout manifest (no image files needed), seeds the store through the
public API (1,000-image actions), then times single actions, a 1,000-image action, undo,
``current_labels`` and ``export_labels``. Prints medians and the ratio to each target.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from labelscope.dataset import Manifest
from labelscope.dataset.mask import EXPECTED_STEMS, STEM_TO_MASK, derive_columns
from labelscope.review import export_labels, open_review_store


def synthetic_manifest(images: int, root: Path) -> Manifest:
    people = -(-images // 7)
    rng = np.random.default_rng(0)
    rows = []
    for p in range(people):
        pid, gender, age = f"{p + 1:06d}", ("male", "female")[p % 2], int(rng.integers(18, 80))
        for stem in EXPECTED_STEMS:
            rows.append({"image_id": f"images/{pid}_x/{stem}.jpg", "group_id": pid, "mask": STEM_TO_MASK[stem],
                         "gender": gender, "age": age, "race": "Asian", "person_path": f"{pid}_x", "csv_row": p + 2})
    df = derive_columns(pd.DataFrame(rows[:images])).sort_values("image_id").reset_index(drop=True)
    return Manifest(df, root, "mask", root)


CPU: dict[int, list[float]] = {}


def timed(fn, repeat: int) -> list[float]:
    """Wall seconds of each call; this process's CPU seconds go to CPU[id(list)]."""
    out, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU[id(out)] = cpu
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20_000)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    m = synthetic_manifest(args.images, tmp)
    ids = m.df["image_id"].tolist()
    store = open_review_store(tmp / "ws", manifest=m)
    t = time.perf_counter()
    fields = [("age", lambda k: 20 + k % 60), ("race", lambda k: f"R{k % 5}"), ("gender", lambda k: ("male", "female")[k % 2])]
    written, k = 0, 0
    while written < args.events:
        n = min(1000, args.events - written)
        start = (k * 1000) % len(ids)
        sel = (ids[start:] + ids[:start])[:n]
        field, value = fields[k % len(fields)]
        store.relabel(sel, field, value(k), reviewer=f"r{k % 4}")
        written += n
        k += 1
    seed_s = time.perf_counter() - t
    print(f"seeded {store.version():,} events on {len(ids):,} images in {seed_s:.1f} s "
          f"({k} actions of up to 1,000 images)")

    rng = np.random.default_rng(1)
    picks = [ids[i] for i in rng.choice(len(ids), args.repeat, replace=False)]
    seen = store.current_labels(m).df.set_index("image_id")["gender"].to_dict()
    it = iter(picks)

    def relabel_one() -> None:
        i = next(it)
        new = "female" if seen[i] == "male" else "male"
        store.relabel([i], "gender", new, reviewer="bench", expected_old=seen[i])

    results = {
        "relabel 1 image (stale-checked)": timed(relabel_one, args.repeat),
        "flag 1 image": timed(lambda: store.flag([picks[0]], reviewer="bench"), args.repeat),
        "person gender fix (7 images)": timed(lambda: store.relabel_person(
            "000042", "gender", "female", reviewer="bench", manifest=m), args.repeat),
        "undo": timed(lambda: store.undo("bench"), min(args.repeat, 10)),
        "exclude 1,000 images": timed(lambda: store.exclude(ids[:1000], reviewer="bench"), 5),
    }
    events = store.version()
    results["current_labels, cold (new store)"] = timed(
        lambda: open_review_store(tmp / "ws").current_labels(m), 5)
    store.current_labels(m)

    def after_one_action() -> None:
        store.flag([picks[0]], reviewer="bench")
        t, c = time.perf_counter(), time.process_time()
        store.current_labels(m)
        warm.append(time.perf_counter() - t)
        warm_cpu.append(time.process_time() - c)

    warm: list[float] = []
    warm_cpu: list[float] = []
    for _ in range(5):
        after_one_action()
    CPU[id(warm)] = warm_cpu
    results["current_labels, warm (after 1 action)"] = warm
    out = tmp / "export"
    results["export_labels"] = timed(lambda: export_labels(m, store, out), 3)
    print(f"{len(ids):,} images, {events:,} events (store: {store.path}); load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    for name, times in results.items():
        med = statistics.median(times)
        target = 1.0 if name.startswith("current_labels") else None if name.startswith("export") else 0.05
        ratio = f"{med / target:5.2f} x target ({target * 1000:.0f} ms)" if target else "(no target)"
        cpu = statistics.median(CPU[id(times)])
        print(f"  {name:<38} median {med * 1000:7.1f} ms (cpu {cpu * 1000:7.1f})  max {max(times) * 1000:7.1f} ms"
              f"  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
