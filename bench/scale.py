"""Competition size from an empty workspace: scan, faces, embeddings, suspects, first renders.

Draws the demo once, outside the repository (default ``/tmp/labelscope-scale/demo-<people>``;
kept, so later runs reuse it), then for each size (default 200 people = 1,400 images and 2,700
people = 18,900 images) times, from an empty workspace, in this process:

- ``scan_dataset`` (every core),
- ``embed_with_faces``: YuNet face boxes and the default embedders in one shared decode,
- ``compute_suspects`` (every check; the embeddings are cached by then, so this is ranking),
- the first render of the Overview, Queue and Embeddings pages (AppTest, caches emptied),

and prints the stage seconds, the total to ranked suspects with face boxes, seconds per image,
and the growth of cost per image from the smallest to the largest size (target <= 1.3x), plus
the machine's load before and after. Issue 11's target: 18,900 images in <= 600 s on 2 cores.

    python bench/scale.py                          # 1,400 and 18,900 images
    python bench/scale.py --people 200 1000        # what fits
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = {"Overview": REPO / "app.py", "Queue": REPO / "pages" / "9_Queue.py",
         "Embeddings": REPO / "pages" / "4_Embeddings.py"}


def demo(folder: Path, people: int) -> tuple[Path, float]:
    """The demo of ``people`` persons (drawn once; 0 s when it is already there)."""
    from labelscope.demo import make_demo

    out = folder / f"demo-{people}"
    if (out / ".labelscope-demo.json").exists():
        return out, 0.0
    t = time.perf_counter()
    make_demo(out, people=people, overwrite=True)
    return out, time.perf_counter() - t


def first_render(dataset: Path, ws: Path, page: Path) -> tuple[float, int]:
    """Seconds of a page's first run on a fresh AppTest (Streamlit caches emptied), and exceptions."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["LABELSCOPE_DATASET"] = str(dataset)
    os.environ["LABELSCOPE_WORKSPACE"] = str(ws)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=900)
    at.session_state["reviewer"] = "bench"
    t = time.perf_counter()
    at.run()
    if page.name != "app.py":
        at.switch_page(str(page)).run()
    return time.perf_counter() - t, len(at.exception)


def run_size(dataset: Path, ws: Path, *, embedders: tuple[str, ...]) -> dict:
    from labelscope.config import Settings
    from labelscope.dataset import load_dataset
    from labelscope.embed import embed_with_faces
    from labelscope.issues.pipeline import compute_suspects
    from labelscope.scan import scan_dataset

    shutil.rmtree(ws, ignore_errors=True)
    row: dict = {}
    m = load_dataset(dataset)
    row["images"] = len(m.df)
    t = time.perf_counter()
    scan_dataset(dataset, ws, manifest=m)
    row["scan_s"] = time.perf_counter() - t
    t = time.perf_counter()
    r = embed_with_faces(m, ws, list(embedders), detector="yunet")
    row["faces_embed_s"] = time.perf_counter() - t
    row.update({f"{k}_s": v for k, v in r.seconds.items()})
    t = time.perf_counter()
    compute_suspects(Settings.build(dataset, workspace=ws), m, embedders=embedders)
    row["suspects_s"] = time.perf_counter() - t
    row["to_suspects_s"] = row["scan_s"] + row["faces_embed_s"] + row["suspects_s"]
    for name, page in PAGES.items():
        row[f"{name}_first_s"], row[f"{name}_exceptions"] = first_render(dataset, ws, page)
    row["s_per_image"] = row["to_suspects_s"] / row["images"]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, nargs="+", default=[200, 2700])
    ap.add_argument("--folder", default="/tmp/labelscope-scale", help="where the demos are drawn (outside the repo)")
    ap.add_argument("--embedders", default="nsfw,agegender")
    args = ap.parse_args(argv)
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    embedders = tuple(e for e in args.embedders.split(",") if e)
    print(f"{len(os.sched_getaffinity(0))} cores; load {os.getloadavg()}", flush=True)
    rows = []
    for people in args.people:
        dataset, draw_s = demo(folder, people)
        row = run_size(dataset, folder / f"ws-{people}", embedders=embedders)
        row["draw_s"] = draw_s
        rows.append(row)
        print("  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)
        print(f"  load now {os.getloadavg()[0]:.2f}", flush=True)
    small, big = rows[0], rows[-1]
    print()
    for r in rows:
        print(f"{r['images']:>6} images: to ranked suspects with face boxes {r['to_suspects_s']:.0f} s "
              f"({r['s_per_image'] * 1000:.1f} ms/image); first renders Overview {r['Overview_first_s']:.1f} s, "
              f"Queue {r['Queue_first_s']:.1f} s, Embeddings {r['Embeddings_first_s']:.1f} s")
    if len(rows) > 1:
        growth = big["s_per_image"] / small["s_per_image"]
        print(f"cost per image {big['images']} vs {small['images']}: {growth:.2f}x (target <= 1.30: "
              f"{'met' if growth <= 1.3 else 'NOT met'})")
    if big["images"] >= 18900:
        print(f"18,900 images in {big['to_suspects_s']:.0f} s (target <= 600: "
              f"{'met' if big['to_suspects_s'] <= 600 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
