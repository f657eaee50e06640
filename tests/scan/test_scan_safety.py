"""Issue 12's scan cases: a same-size rewrite with its mtime put back is rescanned (ctime in the
key); a SIGKILLed ``scan --workers 2`` leaves no pool worker alive."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import REPO, write_image


def test_a_same_size_rewrite_with_its_mtime_restored_is_scanned_again(tmp_path):
    from labelscope.scan import load_features, scan_dataset

    root = tmp_path / "ds"
    rng = np.random.default_rng(0)
    for k in range(3):  # uncompressed PNGs: other pixels of the same shape give the same file size
        (root / "cat").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(root / "cat" / f"{k}.png",
                                                                                compress_level=0)
    ws = tmp_path / "ws"
    scan_dataset(root, ws, workers=1)
    p = root / "cat" / "1.png"
    st = p.stat()
    Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(p, compress_level=0)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime put back, as `touch -r` or a restore does
    assert (p.stat().st_size, p.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    summary = scan_dataset(root, ws, workers=1)
    assert summary.decoded == 1
    assert set(load_features(ws)["ctime_ns"]) >= {p.stat().st_ctime_ns}


def _descendants(pid: int) -> set[int]:
    """Every process whose parent chain reaches ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - out
        out |= frontier
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_scan_leaves_no_pool_worker_alive(tmp_path):
    root = tmp_path / "ds"
    for k in range(240):
        write_image(root / ("a" if k % 2 else "b") / f"{k}.png", size=(320, 320), seed=k, fmt="PNG")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "labelscope", "scan", str(root), "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and len(workers) < 3:
            workers = _descendants(proc.pid)  # the forkserver and its two workers
            time.sleep(0.05)
        assert proc.poll() is None and len(workers) >= 3, "the scan ended before its pool could be seen"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "pool workers outlived the killed scan"
    finally:
        for w in workers | {proc.pid}:
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass
