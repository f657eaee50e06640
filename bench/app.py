"""Server-side page timings at 20,000 images (AppTest), and the faces stage's throughput.

    python bench/app.py [--images 20000] [--people 12] [--out DIR] [--pages 1_Colours 7_Quality]

Builds a synthetic workspace cheaply: a small demo (``make_demo``, ``--people`` people) is
drawn, scanned and face-detected for real (that detection gives the faces stage's images/s);
then a mask-layout dataset of ``--images`` images is made of hard links to those files (new
person ids, genders and ages, so all 18 classes fill), and its scan tables (features,
thumbnails), face boxes, colour digest and a "colour" embedding + PCA map are synthesised by
replicating the small dataset's rows (unique SHA-1s and perturbed pHashes, plus 20 injected
exact duplicates). Nothing is decoded for the big dataset except by the stages timed here.

Then every page in ``pages/`` (and ``app.py``) runs in AppTest with emptied Streamlit caches,
right after a cold Overview run (which loads the manifest and features all pages share, as
a user arriving at the app does; its cost is printed as ``overview_cold``): "first" is the
page's first render, "selected" a rerun after 24 images are put in ``review.selection`` (the
state a gallery click or a plotly lasso sets), "rerun" a plain rerun. Wall and CPU seconds
are both printed (CPU is steadier on a shared machine). Targets: first < 2 s, selected <
0.5 s (server side; the browser adds its own).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
FIRST_TARGET, SELECTED_TARGET = 2.0, 0.5


def small_demo(out: Path, people: int) -> tuple[Path, float]:
    """Draw, scan and detect faces on a small demo; returns (path, faces images/s)."""
    from labelscope.demo import make_demo
    from labelscope.faces import detect_faces
    from labelscope.scan import scan_dataset

    make_demo(out, people=people, seed=0)
    scan_dataset(out, workers=1)
    s = detect_faces(out)
    print(f"faces stage on {s.total} demo photos (384x512, MTCNN, 1 torch thread): {s.images_per_s:.2f} images/s, "
          f"{s.with_face} with a face, {s.no_face} without, {s.unreadable} unreadable")
    return out, s.images_per_s


def big_dataset(src: Path, dst: Path, n_images: int, seed: int = 0) -> Path:
    """``n_images`` (rounded up to whole people) hard links to ``src``'s photos in a new train.csv."""
    rng = np.random.default_rng(seed)
    people = pd.read_csv(src / "train.csv", dtype=str)
    n_people = -(-n_images // 7)
    rows, links = [], []
    for k in range(n_people):
        sp = people.iloc[k % len(people)]
        gender = ("male", "female")[rng.integers(2)]
        age = int(rng.choice([rng.integers(18, 30), rng.integers(30, 60), rng.integers(60, 80)]))
        pid = f"{k + 1:06d}"
        path = f"{pid}_{gender}_{sp['race']}_{age}"
        rows.append({"id": pid, "gender": gender, "race": sp["race"], "age": age, "path": path})
        links.append((src / "images" / sp["path"], dst / "images" / path))
    for a, b in links:
        b.mkdir(parents=True, exist_ok=True)
        for f in a.iterdir():
            os.link(f, b / f.name)
    pd.DataFrame(rows).to_csv(dst / "train.csv", index=False)
    return dst


def source_index(big_ids: pd.Series, src_people: list[str], big_people: list[str]) -> np.ndarray:
    """For each big image id, the row key ``<src person path>/<file>`` it is a link of."""
    to_src = {b: src_people[k % len(src_people)] for k, b in enumerate(big_people)}
    parts = big_ids.str.split("/", n=2, expand=True)
    return ("images/" + parts[1].map(to_src) + "/" + parts[2]).to_numpy()


def synthesise_tables(src: Path, dst: Path) -> None:
    """Features, thumbnails and face boxes of ``dst`` copied from ``src``'s rows (one unreadable kept)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from labelscope.dataset import load_dataset
    from labelscope.scan.table import THUMB_ROW_GROUP
    from labelscope.workspace import Workspace

    sws, dws = Workspace(src / ".labelscope"), Workspace(dst / ".labelscope").ensure()
    big = load_dataset(dst).df
    src_people = pd.read_csv(src / "train.csv", dtype=str)["path"].tolist()
    big_people = pd.read_csv(dst / "train.csv", dtype=str)["path"].tolist()
    keys = source_index(big["image_id"], src_people, big_people)
    rng = np.random.default_rng(1)

    feats = pq.read_table(sws.features).to_pandas()
    bad = set(feats.loc[feats["error"] != "", "image_id"])
    good = feats[feats["error"] == ""].set_index("image_id")
    first_bad = True
    pick = []
    for k in keys:  # replicas of the unreadable file become readable ones, but for the first
        if k in bad and not first_bad:
            k = k.rsplit("/", 1)[0] + "/mask1.jpg"
        first_bad = first_bad and k not in bad
        pick.append(k)
    all_rows = feats.set_index("image_id")
    out = all_rows.loc[pick].reset_index(drop=True)
    out.insert(0, "image_id", big["image_id"].to_numpy())
    # cache keys of the file actually linked (hard links share size and mtime): a later scan
    # (e.g. the one compute_embeddings makes sure of) then finds every row current
    linked = all_rows.loc[keys, ["file_size", "mtime_ns"]].to_numpy()
    out["file_size"], out["mtime_ns"] = linked[:, 0], linked[:, 1]
    out["sha1"] = [hashlib.sha1(i.encode()).hexdigest() for i in out["image_id"]]
    ok = out["error"] == ""
    flips = np.zeros(len(out), dtype=np.uint64)
    for _ in range(12):  # ~12 random bits flipped: replicas of one photo are not near duplicates
        flips |= (np.uint64(1) << rng.integers(0, 63, len(out)).astype(np.uint64))
    ph = out.loc[ok, "phash"].astype("int64").to_numpy().view(np.uint64) ^ flips[ok.to_numpy()]
    out["phash"] = pd.array([None] * len(out), dtype="Int64")
    out.loc[ok, "phash"] = ph.view(np.int64)
    dup = rng.choice(np.nonzero(ok.to_numpy())[0], size=40, replace=False)
    for a, b in zip(dup[:20], dup[20:]):  # 20 exact duplicates (labels usually differ)
        out.loc[b, ["sha1", "phash"]] = out.loc[a, ["sha1", "phash"]].to_numpy()
    schema = pq.read_schema(sws.features)
    pq.write_table(pa.Table.from_pandas(out, schema=schema, preserve_index=False), dws.features)

    thumbs = pq.read_table(sws.thumbs).to_pandas().set_index("image_id")["thumb"]
    tb = pd.DataFrame({"image_id": big["image_id"], "thumb": [thumbs.get(k, b"") for k in pick]})
    tb = tb[tb["thumb"].str.len() > 0].sort_values("image_id")
    pq.write_table(pa.Table.from_pandas(tb, preserve_index=False), dws.thumbs, row_group_size=THUMB_ROW_GROUP)

    faces = pd.read_parquet(sws.faces).set_index("image_id")
    fb = faces.loc[pick].reset_index(drop=True)
    fb.insert(0, "image_id", big["image_id"].to_numpy())
    fb.to_parquet(dws.faces, index=False)
    every = pd.read_parquet(sws.root / "faces_all.parquet")
    src_of = pd.DataFrame({"src": pick, "image_id": big["image_id"].to_numpy()})
    every = every.rename(columns={"image_id": "src"}).merge(src_of, on="src").drop(columns="src")
    every.to_parquet(dws.root / "faces_all.parquet", index=False)


def prepare_stages(dst: Path) -> None:
    from labelscope.eda.colours import colour_digest
    from labelscope.dataset import load_dataset
    from labelscope.embed import compute_embeddings, project
    from labelscope.workspace import Workspace

    ws = Workspace(dst / ".labelscope")
    t = time.perf_counter()
    d = colour_digest(ws)
    print(f"colour digest (luminance + mean-image tiles) of {len(d):,} thumbnails: {time.perf_counter() - t:.1f} s (one-off)")
    t = time.perf_counter()
    emb = compute_embeddings(load_dataset(dst), ws, "colour")
    project(emb, "pca", workspace=ws)
    print(f"colour embedding + PCA map of {len(emb):,} images: {time.perf_counter() - t:.1f} s (one-off)")


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``fn()``: CPU is steadier on a shared machine."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def time_pages(dataset: Path, pages: list[Path]) -> list[dict]:
    """Per page: Streamlit caches emptied, the Overview run first (it loads the manifest and
    features every page shares, as a user arriving at the app does), then the page timed."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["LABELSCOPE_DATASET"] = str(dataset)
    ids = pd.read_parquet(dataset / ".labelscope" / "features.parquet", columns=["image_id"])["image_id"]
    chosen = ids.iloc[100:124].tolist()
    results = []
    for path in pages:
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
        at.session_state["reviewer"] = "bench"
        home_s = timed(at.run)
        first = timed(at.run if path.name == "app.py" else lambda: at.switch_page(str(path)).run())
        at.session_state["review.selection"] = chosen
        at.session_state["emb.selection"] = chosen
        selected = timed(at.run)
        rerun = timed(at.run)
        errors = [e.message for e in at.exception]
        results.append({"page": path.name, "first_s": first[0], "first_cpu": first[1], "selected_s": selected[0],
                        "selected_cpu": selected[1], "rerun_s": rerun[0], "rerun_cpu": rerun[1],
                        "overview_cold_s": home_s[0], "overview_cold_cpu": home_s[1],
                        "charts": len(at.get("plotly_chart")), "exception": errors[0][:60] if errors else ""})
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20_000)
    ap.add_argument("--people", type=int, default=12, help="people in the small demo the rows are copied from")
    ap.add_argument("--out", type=Path, default=None, help="keep the synthetic data here (default: a temp dir)")
    ap.add_argument("--pages", nargs="*", default=None, help="page file stems to time (default: all)")
    ap.add_argument("--reuse", action="store_true", help="reuse the synthetic dataset already in --out")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    tmp = None if args.out else tempfile.mkdtemp(prefix="labelscope-bench-app-")
    root = args.out or Path(tmp)
    try:
        dst = root / "big"
        if not (args.reuse and (dst / ".labelscope" / "faces.parquet").exists()):
            src, _ = small_demo(root / "small", args.people)
            t = time.perf_counter()
            big_dataset(src, dst, args.images)
            synthesise_tables(src, dst)
            print(f"synthetic dataset of {args.images:,} images (hard links + copied scan rows): "
                  f"{time.perf_counter() - t:.1f} s")
        prepare_stages(dst)
        pages = [REPO / "app.py"] + sorted((REPO / "pages").glob("*.py"), key=lambda p: int(p.name.split("_")[0]))
        if args.pages:
            pages = [p for p in pages if p.stem in args.pages]
        res = pd.DataFrame(time_pages(dst, pages))
        res["ok_wall"] = (res["first_s"] < FIRST_TARGET) & (res["selected_s"] < SELECTED_TARGET) & (res["exception"] == "")
        res["ok_cpu"] = (res["first_cpu"] < FIRST_TARGET) & (res["selected_cpu"] < SELECTED_TARGET) & (res["exception"] == "")
        with pd.option_context("display.width", 160, "display.max_colwidth", 60):
            print(res.round(3).to_string(index=False))
        print(f"targets: first render < {FIRST_TARGET} s, rerun after a selection < {SELECTED_TARGET} s; pages meeting "
              f"both: {int(res['ok_wall'].sum())}/{len(res)} by wall time, {int(res['ok_cpu'].sum())}/{len(res)} by CPU "
              f"time (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU time is what the page "
              "costs when the machine is not shared)")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
