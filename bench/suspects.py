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
    python bench/suspects.py --work data/bench-suspects   # keep datasets + workspaces (reruns reuse embeddings)

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

import numpy as np
import pandas as pd

TASKS = ("mask", "gender_age")
ALL_TASKS = ("mask", "mask3", "gender_age")
AGE_BINS = ((0, 30, "<30"), (30, 60, "30-59"), (60, 200, ">=60"))


def task_sources(data: Path, task: str) -> dict[str, list[Path]]:
    """Class name -> source photos for a task."""
    if task in ("mask", "mask3"):
        root = data / "faces_mask"
        classes = ["with_mask", "without_mask"] + (["mask_weared_incorrect"] if task == "mask3" else [])
        return {c: sorted((root / c).glob("*.jpg")) for c in classes}
    if task == "gender_age":
        root = data / "utkface_age_gender"
        labels = pd.read_csv(root / "labels.csv")
        labels = labels[labels["filename_parse"] == "ok"]
        out: dict[str, list[Path]] = {}
        for r in labels.itertuples():
            group = next(name for lo, hi, name in AGE_BINS if lo <= int(r.age) < hi)
            out.setdefault(f"{r.gender}_{group}", []).append(root / "images" / r.file)
        return {k: sorted(v) for k, v in sorted(out.items())}
    raise ValueError(f"unknown task {task!r}; expected one of {', '.join(ALL_TASKS)}")


def build_flipped_folder(sources: dict[str, list[Path]], out: Path, *, rate: float = 0.1, seed: int = 0
                         ) -> pd.DataFrame:
    """Copy photos into ``out/<given class>/`` with ``rate`` of them under a random other class.

    Returns the truth table: ``image_id``, ``true``, ``given``, ``flipped``.
    """
    rng = np.random.default_rng(seed)
    items = [(c, p) for c in sources for p in sources[c]]
    classes = list(sources)
    flip = np.zeros(len(items), bool)
    flip[rng.choice(len(items), size=int(round(rate * len(items))), replace=False)] = True
    rows = []
    for (true, src), f in zip(items, flip):
        given = rng.choice([c for c in classes if c != true]) if f else true
        image_id = f"{given}/{true}__{src.name}"
        dst = out / image_id
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        rows.append({"image_id": image_id, "true": true, "given": given, "flipped": bool(f)})
    return pd.DataFrame(rows)


def ranking_metrics(truth: pd.DataFrame, scores: pd.Series) -> dict[str, float]:
    """precision@k (k = flipped), recall@2k and AUROC; ``scores`` by image_id, low = suspicious."""
    from sklearn.metrics import roc_auc_score

    t = truth.set_index("image_id")
    s = scores.reindex(t.index).fillna(1.0)
    y = t["flipped"].to_numpy()
    order = np.argsort(s.to_numpy(), kind="stable")
    k = int(y.sum())
    return {"precision@k": float(y[order[:k]].mean()), "recall@2k": float(y[order[:2 * k]].sum() / k),
            "auroc": float(roc_auc_score(y, -s.to_numpy())), "k": k}


def pixel_baseline(manifest, *, side: int = 32, dim: int = 64) -> pd.Series:
    """cleanlab self-confidence on out-of-fold logistic regression over raw-pixel PCA features."""
    from PIL import Image
    from sklearn.decomposition import PCA

    from labelscope.issues.label import label_quality
    from labelscope.issues.probs import oof_logistic

    X = np.stack([np.asarray(Image.open(manifest.root / i).convert("RGB").resize((side, side)), np.float32).ravel()
                  / 255.0 for i in manifest.df["image_id"]])
    X = PCA(n_components=dim, random_state=0).fit_transform(X - X.mean(axis=0))
    classes = manifest.classes
    y = manifest.df["label"].map({c: k for k, c in enumerate(classes)}).to_numpy()
    p, _ = oof_logistic(X, y, n_classes=len(classes), Cs=(1.0,))
    return pd.Series(label_quality(y, p), index=manifest.df["image_id"].to_numpy())


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
    ap.add_argument("--work", default="", help="folder to keep datasets and workspaces in (default: a temp dir)")
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
            root = work / f"{task}-seed{seed}"
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
