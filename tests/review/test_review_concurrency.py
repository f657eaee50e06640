"""Several processes deciding at once, and writers killed mid-transaction."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, make_mask_dataset
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store

PROCS, ACTIONS = 4, 250
CLI = [sys.executable, "-m", "labelscope.cli"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}

API_WORKER = r"""
import json, sys, time
from pathlib import Path
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store
root, ws, k, n, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5])
m = load_dataset(root)
store = open_review_store(ws, manifest=m)
mine = m.df[m.df["group_id"] == f"{k + 1:06d}"]
last = dict(zip(mine["image_id"], mine["age"].astype(int)))
ids = list(last)
(gate / f"ready{k}").touch()
while not (gate / "go").exists():  # start together once every worker has imported and loaded
    time.sleep(0.002)
t0 = time.time()
for step in range(n):
    i = ids[step % len(ids)]
    new = 1 + (step * 7 + k) % 100
    store.relabel([i], "age", new, reviewer=f"w{k}", expected_old=last[i])  # its own last value: never stale
    last[i] = new
print(json.dumps({"t0": t0, "t1": time.time(), "final": last}))
"""

KILLED_WRITER = r"""
import sys
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store
m = load_dataset(sys.argv[1])
store = open_review_store(sys.argv[2], manifest=m)
step = 0
while True:
    store.relabel_person("000001", "gender", ("male", "female")[step % 2], reviewer="loop", manifest=m)
    step += 1
"""


@pytest.fixture
def people4(tmp_path) -> Path:
    people = [(f"{k:06d}", ("female", "male")[k % 2], "Asian", 20 + k) for k in range(1, 41)]
    return make_mask_dataset(tmp_path / "mask40", people)


def _run_all(cmds: list[list[str]], gate: Path | None = None) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO)
             for c in cmds]
    if gate is not None:  # open the gate once every worker is ready (or one died)
        deadline = time.monotonic() + 120
        while len(list(gate.glob("ready*"))) < len(cmds) and time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        (gate / "go").touch()
    out = []
    for p, c in zip(procs, cmds):
        stdout, stderr = p.communicate(timeout=240)
        out.append(subprocess.CompletedProcess(c, p.returncode, stdout, stderr))
    return out


@pytest.mark.slow
def test_four_processes_times_250_api_actions(people4, tmp_path):
    ws = tmp_path / "ws"
    open_review_store(ws)  # create once; the workers race on everything else
    gate = tmp_path / "gate"
    gate.mkdir()
    runs = _run_all([[sys.executable, "-c", API_WORKER, str(people4), str(ws), str(k), str(ACTIONS), str(gate)]
                     for k in range(PROCS)], gate)
    for r in runs:
        assert r.returncode == 0, r.stderr
        assert "locked" not in r.stderr.lower()
    reports = [json.loads(r.stdout) for r in runs]
    assert max(r["t0"] for r in reports) < min(r["t1"] for r in reports), "workers did not overlap"
    m = load_dataset(people4)
    store = open_review_store(ws)
    ev = store.events()
    assert len(ev) == PROCS * ACTIONS and ev["id"].tolist() == list(range(1, PROCS * ACTIONS + 1))
    assert ev.groupby("reviewer").size().to_dict() == {f"w{k}": ACTIONS for k in range(PROCS)}
    cur = store.current_labels(m).df.set_index("image_id")
    final = {i: age for r in reports for i, age in r["final"].items()}
    assert {i: int(cur.loc[i, "age"]) for i in final} == final
    assert int(cur["changed"].sum()) == sum(1 for i, a in final.items() if a != int(m.df.set_index("image_id").loc[i, "age"]))


def _fixes_rows(m, k: int) -> list[tuple[str, str, str]]:
    """250 (image_id, field, new) rows on images only worker k touches."""
    df = m.df.iloc[k * 70:(k + 1) * 70]
    rows = []
    for n, (iid, g, a) in enumerate(zip(df["image_id"], df["gender"], df["age"])):
        rows += [(iid, "age", str(90 - n % 50)), (iid, "race", f"R{k}"), (iid, "gender", "male" if g == "female" else "female"),
                 (iid, "mask", ("wear", "incorrect", "not_wear")[(n + k) % 3])]
    return rows[:ACTIONS]


@pytest.mark.slow
def test_four_processes_apply_250_fixes_each_through_the_cli(people4, tmp_path):
    m = load_dataset(people4)
    ws = tmp_path / "ws"
    cmds, expected = [], {}
    for k in range(PROCS):
        rows = _fixes_rows(m, k)
        expected.update({(i, f): v for i, f, v in rows})
        path = tmp_path / f"fixes{k}.csv"
        path.write_text("image_id,field,new,note\n" + "".join(f"{i},{f},{v},batch {k}\n" for i, f, v in rows))
        cmds.append([*CLI, "review", "apply", str(people4), str(path),
                     "--reviewer", f"cli{k}", "--workspace", str(ws)])
    bad = tmp_path / "bad.csv"  # a fifth process whose last row is wrong: none of its rows may land
    bad.write_text("image_id,field,new\n" + f"{m.df['image_id'].iloc[0]},age,33\n" + "images/none.jpg,age,3\n")
    cmds.append([*CLI, "review", "apply", str(people4), str(bad),
                 "--reviewer", "bad", "--workspace", str(ws)])
    runs = _run_all(cmds)
    for r in runs[:PROCS]:
        assert r.returncode == 0, r.stderr
        assert "applied 250 change(s)" in r.stdout
    assert runs[-1].returncode == 1 and "images/none.jpg" in runs[-1].stderr and "nothing was applied" in runs[-1].stderr
    store = open_review_store(ws)
    ev = store.events()
    assert len(ev) == PROCS * ACTIONS and "bad" not in set(ev["reviewer"])
    assert ev.groupby("reviewer")["batch"].nunique().to_dict() == {f"cli{k}": 1 for k in range(PROCS)}
    cur = store.current_labels(m).df.set_index("image_id")
    got = {(i, f): str(cur.loc[i, f]) for i, f in expected}
    assert got == expected


@pytest.mark.slow
def test_killed_writer_leaves_a_sound_database(tmp_path, mask_dataset):
    ws = tmp_path / "ws"
    store = open_review_store(ws)
    p = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(mask_dataset), str(ws)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=REPO)
    deadline = time.monotonic() + 60
    while store.version() < 7 * 20 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the database for the writer's progress, not a fixed wait
    assert p.poll() is None, p.stderr.read().decode()
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    n = len(store.events())
    assert n >= 140 and n % 7 == 0  # whole person-level batches only
    m = load_dataset(mask_dataset)
    cur = store.current_labels(m).df
    assert cur[cur["group_id"] == "000001"]["gender"].nunique() == 1
    store.flag(m.df["image_id"].tolist()[:1], reviewer="after")  # still writable
    assert len(store.events()) == n + 1
