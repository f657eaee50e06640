"""What cleaning the labels is worth: macro-F1 on the same held-out people, trained on the
demo's noisy labels versus on its true labels (from noise_truth.csv), both scored against the
true labels, measured in one run.

    python bench/clean_vs_noisy.py                       # fresh 120-person demo in a temp dir
    python bench/clean_vs_noisy.py --demo data/demo --epochs 8 --img-size 96

Both runs use the same person-grouped folds (the clean run's folds.csv), so every person is
held out exactly once and scored by a model that never saw their photos. The duplicate photos
are scored against the label of the photo they copy; the unreadable file is skipped.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from labelscope.dataset import load_dataset  # noqa: E402
from labelscope.dataset.mask import CLASS_NAMES  # noqa: E402

COLUMNS = ["image_id", "path", "person", "mask", "gender", "age", "age_group", "class_index", "label",
           "excluded", "changed", "last_reviewer"]


def noisy_and_true_labels(demo: Path, out: Path) -> tuple[Path, Path, pd.DataFrame]:
    """labels.csv as the export writes it (given labels) and the same rows with the true labels."""
    from labelscope.demo import true_labels

    given = load_dataset(demo).df.copy()
    given["path"], given["person"] = given["image_id"], given["group_id"]
    given["excluded"], given["changed"], given["last_reviewer"] = 0, 0, ""
    true = true_labels(demo).set_index("image_id")
    truth = pd.read_csv(demo / "noise_truth.csv", dtype=str, keep_default_na=False)
    for r in truth[truth["kind"] == "duplicate"].itertuples():  # a copied photo shows its source's person
        true.loc[r.image_id, ["mask", "gender", "age", "age_group", "class_index", "label"]] = \
            true.loc[r.true, ["mask", "gender", "age", "age_group", "class_index", "label"]].to_numpy()
    fixed = given.copy()
    for c in ("mask", "gender", "age", "age_group", "class_index", "label"):
        fixed[c] = fixed["image_id"].map(true[c])
    assert (fixed["label"] == fixed["class_index"].astype(int).map(dict(enumerate(CLASS_NAMES)))).all()
    out.mkdir(parents=True, exist_ok=True)
    given[COLUMNS].to_csv(out / "noisy_labels.csv", index=False)
    fixed[COLUMNS].to_csv(out / "true_labels.csv", index=False)
    diff = given[["image_id", "label"]].assign(true=fixed["label"].to_numpy())
    return out / "noisy_labels.csv", out / "true_labels.csv", diff


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", type=Path, help="an existing demo dataset (default: generate one)")
    ap.add_argument("--people", type=int, default=120)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default="small")
    ap.add_argument("--img-size", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--workers", type=int, default=-1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--heads", default="single", choices=["single", "multi"])
    ap.add_argument("--crop", default="center", choices=["none", "center", "faces"])
    ap.add_argument("--out", type=Path, help="keep the runs here (default: a temp dir)")
    args = ap.parse_args(argv)

    from labelscope.train.run import TrainConfig, train

    tmp = tempfile.TemporaryDirectory(prefix="clean_vs_noisy.")
    work = args.out or Path(tmp.name)
    demo = args.demo
    if demo is None:
        from labelscope.demo import make_demo

        t0 = time.perf_counter()
        summary = make_demo(work / "demo", people=args.people, seed=args.seed)
        print(f"demo: {summary.images} images of {summary.people} people, faults {summary.faults} "
              f"({time.perf_counter() - t0:.0f} s)")
        demo = summary.out
    noisy, true, diff = noisy_and_true_labels(Path(demo), work)
    wrong = (diff["label"] != diff["true"]).mean()
    print(f"labels: {len(diff)} images, {wrong:.1%} carry a wrong 18-class label")

    common = dict(model=args.model, img_size=args.img_size, epochs=args.epochs, folds=args.folds,
                  batch_size=args.batch_size, lr=args.lr, workers=args.workers, seed=args.seed,
                  device=args.device, heads=args.heads, crop=args.crop, progress=False, eval_labels_csv=str(true),
                  eval_every=args.epochs)
    quiet = (lambda s: None)
    t0 = time.perf_counter()
    clean = train(TrainConfig(str(true), str(demo), str(work / "run_clean"), **common), log=quiet)
    t_clean = time.perf_counter() - t0
    t0 = time.perf_counter()
    dirty = train(TrainConfig(str(noisy), str(demo), str(work / "run_noisy"), folds_csv=str(work / "run_clean" /
                                                                                             "folds.csv"), **common),
                  log=quiet)
    t_noisy = time.perf_counter() - t0
    assert (clean.folds == dirty.folds).all()

    rows = []
    for name, res, secs in (("true labels", clean, t_clean), ("noisy labels", dirty, t_noisy)):
        o, s = res.metrics["oof"], res.metrics["speed"]
        rows.append({"trained on": name, "macro_f1": o["macro_f1"], "accuracy": o["accuracy"],
                     "f1_mask": o["f1_mask"], "f1_gender": o["f1_gender"], "f1_age_group": o["f1_age_group"],
                     "train_img_s": s["train_images_per_s"], "eval_img_s": s["eval_images_per_s"], "seconds": secs})
    table = pd.DataFrame(rows)
    print(f"\n{args.model} @ {args.img_size}px, crop {args.crop}, {args.folds} folds x {args.epochs} epochs, device "
          f"{clean.metrics['speed']['device']}, {clean.metrics['speed']['threads']} threads, "
          f"{clean.metrics['speed']['workers']} loader workers; scored out of fold against the TRUE labels")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    d = rows[0]["macro_f1"] - rows[1]["macro_f1"]
    print(f"\nmacro-F1 true-label training minus noisy-label training: {d:+.3f} "
          f"(ratio {rows[0]['macro_f1'] / max(rows[1]['macro_f1'], 1e-9):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
