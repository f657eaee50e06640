"""labelscope's suspects against fastdup, side by side on the same noisy copies of real photos.

For each task (``mask``: faces_mask with / without mask; ``gender_age``: UTKFace gender x age
group, 6 classes), 1,200 real photos from ``$LABELSCOPE_TEST_DATA``, 10% of labels flipped at
random, for each seed:

- **labelscope**: ``labelscope suspects IMAGES --all`` in a fresh process and an empty
  workspace (scan, YuNet face boxes, the default embedders in one shared decode, every check);
  the image's label-check score ranks it;
- **fastdup** (2.54, its own features, k=10 neighbour label vote, threshold 0) in its own
  virtual environment ``bench/.fastdup-venv`` (numpy<2; telemetry off), created on first use.

Both are timed as the whole process, end to end, on the same machine in the same run, one after
the other; printed: seconds, precision@k (k = flipped), recall@2k, AUROC, and the ratios.
Targets (issue 11): time ratio <= 1.0; precision@k >= fastdup's on mask, >= 0.78 on gender_age.

    python bench/peers.py                        # both tasks, seeds 0 1 2
    python bench/peers.py --task mask --seeds 0 --embedders nsfw,agegender
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import build_flipped_folder, ranking_metrics, task_sources  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV = HERE / ".fastdup-venv"
FASTDUP = "fastdup==2.54"
TASKS = ("mask", "gender_age")


def ensure_fastdup() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} with {FASTDUP} (once) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", FASTDUP], check=True)
    return py


def sources(data: Path, task: str, n: int) -> dict[str, list[Path]]:
    """The task's photos, subsampled to ``n`` in all (same share per class; fixed, seed-free)."""
    src = task_sources(data, task)
    total = sum(len(v) for v in src.values())
    if total <= n:
        return src
    rng = np.random.default_rng(12345)
    return {c: sorted(rng.choice(v, size=round(len(v) * n / total), replace=False).tolist())
            for c, v in src.items()}


def run_labelscope(images: Path, ws: Path, out: Path, embedders: str) -> tuple[float, pd.Series]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    cmd = [sys.executable, "-m", "labelscope", "suspects", str(images), "--workspace", str(ws), "--all",
           "--out", str(out)] + (["--embedders", embedders] if embedders else [])
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - t
    table = pd.read_csv(out, dtype={"image_id": str})
    label = table[table["issue"] == "label"].drop_duplicates("image_id").set_index("image_id")["score"]
    return secs, label.astype(float)


def run_fastdup(py: Path, images: Path, work: Path, out: Path, threads: int) -> tuple[float, pd.Series]:
    env = {**os.environ, "SENTRY_OPT_OUT": "1"}
    env.pop("PYTHONPATH", None)
    t = time.perf_counter()
    subprocess.run([str(py), str(HERE / "fastdup_rank.py"), str(images), str(work), str(out), "--threads",
                    str(threads)], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    secs = time.perf_counter() - t
    return secs, pd.read_csv(out, dtype={"image_id": str}).set_index("image_id")["score"].astype(float)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("LABELSCOPE_TEST_DATA", ""))
    ap.add_argument("--task", choices=TASKS + ("all",), default="all")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--images", type=int, default=1200, help="photos per task (default 1200)")
    ap.add_argument("--rate", type=float, default=0.1)
    ap.add_argument("--embedders", default="", help="labelscope --embedders (default: its own default)")
    ap.add_argument("--work", default="", help="folder for the noisy copies (default: a temporary one)")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not (data / "faces_mask").is_dir():
        print("set LABELSCOPE_TEST_DATA (or --data) to the shared real-photo folder", file=sys.stderr)
        return 2
    py = ensure_fastdup()
    threads = len(os.sched_getaffinity(0))
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-peers-"))
    print(f"{threads} cores; load before: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for task in (TASKS if args.task == "all" else (args.task,)):
        for seed in args.seeds:
            root = work / task
            truth = build_flipped_folder(sources(data, task, args.images), root / "images", rate=args.rate, seed=seed)
            for d in ("ws", "fd"):
                shutil.rmtree(root / d, ignore_errors=True)  # empty workspaces: nothing cached
            ls_s, ls = run_labelscope(root / "images", root / "ws", root / "ls.csv", args.embedders)
            fd_s, fd = run_fastdup(py, root / "images", root / "fd", root / "fd.csv", threads)
            for name, secs, scores in (("labelscope", ls_s, ls), ("fastdup", fd_s, fd)):
                rows.append({"task": task, "seed": seed, "tool": name, "seconds": secs,
                             **ranking_metrics(truth, scores)})
            r = rows[-2:]
            print(f"[{task} seed {seed}] {len(truth)} images, {r[0]['k']} flipped | labelscope {ls_s:.1f}s "
                  f"p@k {r[0]['precision@k']:.3f} | fastdup {fd_s:.1f}s p@k {r[1]['precision@k']:.3f} | "
                  f"time ratio {ls_s / fd_s:.2f} | load {os.getloadavg()[0]:.2f}", flush=True)
    res = pd.DataFrame(rows)
    summary = res.groupby(["task", "tool"], sort=False)[["seconds", "precision@k", "recall@2k", "auroc"]].mean()
    print()
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print()
    for task in res["task"].unique():
        s = summary.loc[task]
        ratio = s.loc["labelscope", "seconds"] / s.loc["fastdup", "seconds"]
        p_ls, p_fd = s.loc["labelscope", "precision@k"], s.loc["fastdup", "precision@k"]
        bar = p_fd if task == "mask" else 0.78
        print(f"{task}: time labelscope / fastdup = {ratio:.2f}x (target <= 1.00: {'met' if ratio <= 1 else 'NOT met'}); "
              f"precision@k {p_ls:.3f} vs fastdup {p_fd:.3f} = {p_ls / max(p_fd, 1e-9):.2f}x "
              f"(target >= {bar:.3f}: {'met' if p_ls >= bar else 'NOT met'})")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
