"""Run fastdup's neighbour label vote on an ImageFolder; print seconds, write image_id,score CSV.

Runs inside fastdup's own virtual environment (``bench/.fastdup-venv``: fastdup pins numpy<2),
started by ``bench/peers.py``; telemetry is off (``SENTRY_OPT_OUT=1``). The score of an image is
the similarity-weighted share of its ``k`` nearest neighbours (fastdup's own features) that
carry its label, low = suspicious: fastdup's label-vote ranking with ``threshold=0``.

    bench/.fastdup-venv/bin/python bench/fastdup_rank.py IMAGES WORK OUT.csv [--k 10] [--threads 2]
"""
import argparse
import os
import sys
import time

os.environ["SENTRY_OPT_OUT"] = "1"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("images")
    ap.add_argument("work")
    ap.add_argument("out")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    t0 = time.perf_counter()
    import fastdup
    import pandas as pd

    root = os.path.abspath(a.images)
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.lower().endswith(".jpg"))
    ann = pd.DataFrame({"filename": files, "label": [os.path.relpath(f, root).split(os.sep)[0] for f in files]})
    fd = fastdup.create(work_dir=a.work, input_dir=root)
    fd.run(annotations=ann, nearest_neighbors_k=a.k, threshold=0.0, overwrite=True, verbose=False,
           num_threads=a.threads)
    sim = fd.similarity()
    sim = sim[sim["filename_from"] != sim["filename_to"]]
    w = sim["distance"].clip(lower=0)
    same = (sim["label_from"] == sim["label_to"]).astype(float)
    g = pd.DataFrame({"f": sim["filename_from"], "ws": w * same, "w": w}).groupby("f").sum()
    score = (g["ws"] / g["w"].where(g["w"] > 0, 1.0)).reindex(files).fillna(1.0)
    out = pd.DataFrame({"image_id": [os.path.relpath(f, root).replace(os.sep, "/") for f in files],
                        "score": score.to_numpy()})
    out.to_csv(a.out, index=False)
    print(f"{time.perf_counter() - t0:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
