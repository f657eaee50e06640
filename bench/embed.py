"""How much each embedder knows, and what it costs: 5-fold logistic-regression accuracy and ms/img.

    python bench/embed.py                                   # $LABELSCOPE_TEST_DATA (faces_mask, utkface_age_gender)
    python bench/embed.py --embedders pixels effnet face --limit 200 --threads 2
    python bench/embed.py --embedders face --faces      # align the face chip inside MTCNN boxes

Tasks: ``faces_mask`` = with / without / incorrectly worn mask (3 classes); ``utk6`` = gender x
age group (<30, 30-59, >=60) on UTKFace crops (6 classes). Each embedder runs through
``compute_embeddings`` (forced, so it really computes) in a scratch workspace; the scan that
``pixels`` and ``colour`` read is timed on its own. Accuracy: mean of 5 stratified folds of a
standardised logistic regression whose C is chosen by an inner 3-fold search. Combinations
are ``labelscope.embed.combine`` of the parts. All figures come from this one run.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from labelscope.dataset import load_dataset  # noqa: E402
from labelscope.embed import availability, combine, compute_embeddings  # noqa: E402
from labelscope.scan import scan_dataset  # noqa: E402
from labelscope.workspace import Workspace  # noqa: E402


def utk_folder(src: Path, dst: Path, limit: int | None) -> Path:
    """UTKFace crops as an ImageFolder of the 6 gender x age-group classes (hard links or copies)."""
    df = pd.read_csv(src / "labels.csv")
    df = df[df["filename_parse"] == "ok"]
    df["cls"] = df["gender"] + "_" + pd.cut(df["age"], [-1, 29, 59, 200], labels=["lt30", "30-59", "ge60"]).astype(str)
    if limit:
        df = df.sample(frac=1.0, random_state=0).groupby("cls").head(limit)
    for row in df.itertuples():
        out = dst / row.cls / row.file
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src / "images" / row.file, out)
        except OSError:
            shutil.copyfile(src / "images" / row.file, out)
    return dst


def mask_folder(src: Path, dst: Path, limit: int | None) -> Path:
    """faces_mask as it is (an ImageFolder), or a per-class sample of it."""
    rng = np.random.default_rng(0)
    for cls in ("with_mask", "without_mask", "mask_weared_incorrect"):
        files = sorted((src / cls).glob("*.jpg"))
        if limit:
            files = [files[i] for i in sorted(rng.permutation(len(files))[:limit])]
        for f in files:
            out = dst / cls / f.name
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(f, out)
            except OSError:
                shutil.copyfile(f, out)
    return dst


def accuracy(x: np.ndarray, y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000)),
                         {"logisticregression__C": [0.003, 0.03, 0.3]}, cv=3)
    return float(cross_val_score(model, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("LABELSCOPE_TEST_DATA", ""), help="the shared real-photo folder")
    ap.add_argument("--embedders", nargs="+", default=["pixels", "colour", "effnet", "face"])
    ap.add_argument("--limit", type=int, default=None, help="at most this many images per class")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--faces", action="store_true",
                    help="run the face stage (MTCNN) first, so `face` aligns inside its boxes")
    args = ap.parse_args()
    data = Path(args.data)
    if not (data / "faces_mask").is_dir():
        print("set LABELSCOPE_TEST_DATA (or --data) to the folder with faces_mask/ and utkface_age_gender/")
        return 2
    avail = availability()
    names = [n for n in args.embedders if avail.get(n, (False, ""))[0]]
    for n in set(args.embedders) - set(names):
        print(f"skipping {n}: {avail.get(n, (False, 'unknown embedder'))[1]}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    try:
        tasks = {"faces_mask": mask_folder(data / "faces_mask", tmp / "faces_mask", args.limit),
                 "utk6": utk_folder(data / "utkface_age_gender", tmp / "utk6", args.limit)}
        results: dict[tuple[str, str], tuple[float, float]] = {}
        for task, root in tasks.items():
            m = load_dataset(root, "folder")
            ws = Workspace(tmp / f"ws-{task}")
            t0 = time.perf_counter()
            scan_dataset(root, ws, manifest=m, workers=1)
            scan_ms = (time.perf_counter() - t0) / len(m) * 1000
            print(f"{task}: {len(m)} images, {m.df['label'].nunique()} classes; scan {scan_ms:.1f} ms/img", flush=True)
            if args.faces:
                from labelscope.faces import detect_faces

                t0 = time.perf_counter()
                detect_faces(root, ws, manifest=m)
                print(f"  face stage (MTCNN) {(time.perf_counter() - t0) / len(m) * 1000:.1f} ms/img", flush=True)
            labels = dict(zip(m.df["image_id"], m.df["label"]))
            embs = {}
            for name in names:
                t0 = time.perf_counter()
                emb = compute_embeddings(m, ws, name, force=True, threads=args.threads)
                ms = (time.perf_counter() - t0) / len(m) * 1000
                embs[name] = emb
                y = np.array([labels[i] for i in emb.image_ids])
                results[(name, task)] = (accuracy(emb.vectors, y), ms)
                print(f"  {name:<12} dim {emb.dim:>5}  acc {results[(name, task)][0]:.3f}  {ms:7.1f} ms/img"
                      f"  ({len(emb.missing)} left out)", flush=True)
            combos = [c for c in (("effnet", "face"), tuple(names)) if len(c) > 1 and all(n in embs for n in c)]
            for combo in dict.fromkeys(combos):
                emb = combine([embs[n] for n in combo])
                y = np.array([labels[i] for i in emb.image_ids])
                results[(emb.name, task)] = (accuracy(emb.vectors, y), sum(results[(n, task)][1] for n in combo))
                print(f"  {emb.name:<12} dim {emb.dim:>5}  acc {results[(emb.name, task)][0]:.3f}", flush=True)
        print("\nembedder                    acc faces_mask  acc utk6  ms/img faces_mask  ms/img utk6  cost / effnet")
        for name in dict.fromkeys(n for n, _ in results):
            fm, ut = results.get((name, "faces_mask")), results.get((name, "utk6"))
            ref = [results[("effnet", t)][1] for t in tasks if ("effnet", t) in results]
            mine = [r[1] for r in (fm, ut) if r]
            ratio = f"{sum(mine) / sum(ref):.2f}" if ref and len(ref) == len(mine) else "-"
            cell = lambda r, k: f"{r[k]:.3f}" if r else "-"  # noqa: E731
            ms = lambda r: f"{r[1]:.1f}" if r else "-"  # noqa: E731
            print(f"{name:<27} {cell(fm, 0):>14} {cell(ut, 0):>9} {ms(fm):>18} {ms(ut):>12} {ratio:>14}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
