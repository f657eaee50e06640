"""How well do the label checks rank flipped labels on real photos? Ours vs the raw-pixel baseline.

Builds an ImageFolder from ``$LABELSCOPE_TEST_DATA`` with 10% of labels flipped at random (to
another class, uniformly), then ranks every image by label-issue score with

- **ours**: what ``labelscope suspects`` does right after a scan (no trained model): cleanlab
  self-confidence on the average of out-of-fold logistic regression and the 20-neighbour vote
  over the cached pretrained embeddings (EfficientNet-Lite0 + dlib face descriptor);
- **baseline**: cleanlab on out-of-fold logistic regression over raw 32x32 RGB pixels, PCA(64).

and prints precision@k (k = number flipped), recall@2k and AUROC for both, side by side.

    python bench/suspects.py                       # both tasks, seed 0
    python bench/suspects.py --task mask --seeds 0 1 2 --ablations
    python bench/suspects.py --work ''                # in a temporary folder, removed afterwards

Tasks: ``mask`` = faces_mask with_mask / without_mask (1,600 photos); ``mask3`` adds
mask_weared_incorrect; ``gender_age`` = utkface_age_gender, gender x age group (6 classes).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from evaluate import ALL_TASKS, build_flipped_folder, pixel_baseline, ranking_metrics, task_sources

TASKS = ("mask", "gender_age")


def our_scores(root: Path, workspace: Path, *, embedders: tuple[str, ...], progress: bool) -> tuple[pd.Series, dict]:
    """The suspects pipeline right after a scan: label-check score for every image."""
    from labelscope.dataset import load_dataset
    from labelscope.embed import compute_embeddings
    from labelscope.issues import find_issues
    from labelscope.scan import scan_dataset

    m = load_dataset(root)
    timings = {}
    t = time.perf_counter()
    scan_dataset(root, workspace, manifest=m)
    timings["scan_s"] = time.perf_counter() - t
    embs = []
    for name in embedders:
        t = time.perf_counter()
        embs.append(compute_embeddings(root, workspace, name, manifest=m))
        timings[f"{name}_s"] = time.perf_counter() - t
    t = time.perf_counter()
    table = find_issues(m, workspace=workspace, embeddings=embs, checks=["label"], all_rows=True)
    timings["rank_s"] = time.perf_counter() - t
    return table.set_index("image_id")["score"], {**timings, "sources": table.attrs.get("sources", {})}


def ablations(manifest, embs: list) -> dict[str, pd.Series]:
    """Scores of the pieces: each embedding alone and all together; classifier, neighbour vote, mean."""
    from labelscope.issues.attribute import attribute_probs
    from labelscope.issues.base import IssueInputs
    from labelscope.issues.label import label_quality

    out = {}
    for chosen in [[e] for e in embs] + ([embs] if len(embs) > 1 else []):
        ap = attribute_probs(IssueInputs(manifest, embeddings=chosen), "label")
        name = "+".join(e.name for e in chosen)
        for part, p in ap.parts.items():
            out[f"{name} {part}"] = pd.Series(label_quality(ap.given, p), index=ap.image_ids)
        out[f"{name} mean"] = pd.Series(label_quality(ap.given, ap.probs), index=ap.image_ids)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("LABELSCOPE_TEST_DATA", ""), help="shared real-photo folder")
    ap.add_argument("--task", choices=ALL_TASKS + ("all",), default="all")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--rate", type=float, default=0.1)
    ap.add_argument("--embedders", default="effnet,face")
    ap.add_argument("--work", default="data/bench-suspects",
                    help="folder for the datasets and workspaces; kept, so a rerun reuses the embeddings "
                         "(default data/bench-suspects; '' = a temporary folder)")
    ap.add_argument("--ablations", action="store_true", help="also rank with each piece alone")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not (data / "faces_mask").is_dir():
        print("set LABELSCOPE_TEST_DATA (or --data) to the shared real-photo folder", file=sys.stderr)
        return 2
    tasks = TASKS if args.task == "all" else (args.task,)
    embedders = tuple(e for e in args.embedders.split(",") if e)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-suspects-"))
    results = []
    for task in tasks:
        for seed in args.seeds:
            root = work / task
            truth = build_flipped_folder(task_sources(data, task), root / "images", rate=args.rate, seed=seed)
            ours, info = our_scores(root / "images", root / "workspace", embedders=embedders, progress=False)
            from labelscope.dataset import load_dataset

            m = load_dataset(root / "images")
            t = time.perf_counter()
            base = pixel_baseline(m)
            info["baseline_s"] = time.perf_counter() - t
            rows = {"ours": ours, "baseline (raw-pixel PCA)": base}
            if args.ablations:
                from labelscope.embed import load_embeddings

                rows.update(ablations(m, [load_embeddings(root / "workspace", e) for e in embedders]))
            for name, scores in rows.items():
                results.append({"task": task, "seed": seed, "ranker": name, **ranking_metrics(truth, scores)})
            print(f"[{task} seed {seed}] {len(truth)} images, {int(truth.flipped.sum())} flipped; "
                  + ", ".join(f"{k} {v:.1f}" for k, v in info.items() if k.endswith("_s")), flush=True)
            print(f"  sources: {info['sources']}", flush=True)
    res = pd.DataFrame(results)
    summary = res.groupby(["task", "ranker"], sort=False)[["precision@k", "recall@2k", "auroc"]].mean()
    print()
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    for task in tasks:
        t = summary.loc[task]
        ratio = t.loc["ours", "precision@k"] / max(t.loc["baseline (raw-pixel PCA)", "precision@k"], 1e-9)
        print(f"{task}: ours / baseline precision@k = {ratio:.2f}x")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
