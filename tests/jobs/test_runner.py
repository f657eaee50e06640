"""The background-job runner for real: detached ``python -m labelscope`` processes, their
progress files, the one-job-of-a-kind lock, cancel, failures, the CLI's --background and jobs.

The job used here is ``labelscope demo`` (one drawing process, a few images a second), which
reports progress like the long commands do and whose length is set by ``--people``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from labelscope import jobs
from labelscope.jobs.lock import holder, is_held, pid_alive


def demo_argv(out: Path, people: int) -> list[str]:
    return ["demo", str(out), "--people", str(people), "--workers", "1"]


def wait_until(cond, timeout: float = 60.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def ws(tmp_path: Path):
    root = tmp_path / "ws"
    yield root
    for state in jobs.list_jobs(root):  # never leave a job running after a test
        if state.active:
            jobs.cancel(root, state.kind, timeout=2)


def test_a_finished_job_leaves_its_progress_in_the_file(ws, tmp_path):
    state = jobs.start(ws, "demo", demo_argv(tmp_path / "d", 2))
    assert state.state == "starting" and state.pid and pid_alive(state.pid)
    final = jobs.wait(ws, "demo", timeout=60)
    assert final.state == "done" and final.exit_code == 0 and final.error == ""
    assert final.stage == "drawing" and final.done == final.total == 14 and final.unit == "images"
    assert final.rate > 0 and final.eta_s is None
    assert final.started <= final.ended and final.pid == final.pgid == state.pid
    raw = json.loads((ws / "jobs" / "demo.json").read_text())  # the file itself, as another process sees it
    assert raw["state"] == "done" and raw["done"] == 14
    assert not list((ws / "jobs").glob(".*.tmp"))  # atomic writes leave no temporary file
    assert "wrote 14 images" in Path(final.log).read_text()
    assert (tmp_path / "d" / "train.csv").is_file()
    assert not is_held(ws / "jobs" / "demo.lock")


def test_one_job_of_a_kind_and_cancel_records_cancelled(ws, tmp_path):
    first = jobs.start(ws, "demo", demo_argv(tmp_path / "d", 60))
    running = wait_until(lambda: (s := jobs.read(ws, "demo")).state == "running" and s.done > 0 and s,
                         what="the job's first progress")
    assert 0 < running.done < running.total == 420 and running.rate > 0 and running.eta_s > 0
    assert "ETA" in jobs.describe(running)
    assert holder(ws / "jobs" / "demo.lock") == first.pid
    with pytest.raises(jobs.JobBusy, match=f"already running.*pid {first.pid}"):
        jobs.start(ws, "demo", demo_argv(tmp_path / "other", 2))
    other = jobs.start(ws, "other-kind", demo_argv(tmp_path / "o", 2))  # another kind may run beside it
    t0 = time.monotonic()
    final = jobs.cancel(ws, "demo")
    assert time.monotonic() - t0 < 10
    assert final.state == "cancelled" and final.ended and final.done < final.total
    assert not pid_alive(first.pid)
    assert jobs.wait(ws, "other-kind", timeout=60).state == "done"
    assert other.pid != first.pid
    again = jobs.start(ws, "demo", demo_argv(tmp_path / "d2", 2))  # the lock is free again
    assert jobs.wait(ws, "demo", timeout=60).state == "done" and again.pid != first.pid


def test_a_stale_lock_and_a_dead_running_job_are_taken_over(ws, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    assert not pid_alive(dead_pid)
    d = ws / "jobs"
    d.mkdir(parents=True)
    (d / "demo.lock").write_text(f"{dead_pid}\n")
    stale = jobs.JobState(kind="demo", id="old", argv=["demo"], state="running", pid=dead_pid, pgid=dead_pid,
                          stage="drawing", done=3, total=10)
    jobs.state.write_state(stale, d / "demo.json")
    seen = jobs.read(ws, "demo")  # nobody holds the lock: the run died without a word
    assert seen.state == "failed" and "ended without recording" in seen.error and seen.ended
    state = jobs.start(ws, "demo", demo_argv(tmp_path / "d", 2))
    assert (d / "demo.lock").read_text().strip() == str(state.pid)
    assert jobs.wait(ws, "demo", timeout=60).state == "done"


def test_a_failing_job_records_its_error(ws, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something.txt").write_text("not a demo")
    jobs.start(ws, "demo", demo_argv(tmp_path / "full", 2))
    final = jobs.wait(ws, "demo", timeout=60)
    assert final.state == "failed" and final.exit_code == 1
    assert str(tmp_path / "full") in final.error and "not empty" in final.error
    jobs.start(ws, "demo", ["demo", str(tmp_path / "x"), "--people", "not-a-number"])  # argparse's exit 2
    final = jobs.wait(ws, "demo", timeout=60)
    assert final.state == "failed" and final.exit_code == 2 and "invalid int value" in final.error


def test_a_follow_up_job_starts_when_the_first_succeeds(ws, tmp_path):
    jobs.start(ws, "demo", demo_argv(tmp_path / "a", 2), then=[("after", demo_argv(tmp_path / "b", 2))])
    assert jobs.wait(ws, "demo", timeout=60).state == "done"
    wait_until(lambda: jobs.read(ws, "after"), what="the follow-up job")
    assert jobs.wait(ws, "after", timeout=60).state == "done"
    assert (tmp_path / "b" / "train.csv").is_file()


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "labelscope", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


def test_cli_background_scan_then_jobs_list_wait_cancel(ws, mask_dataset, tmp_path):
    t0 = time.monotonic()
    out = cli("scan", str(mask_dataset), "--workspace", str(ws), "--workers", "1", "--background", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "started the scan job" in out.stderr and time.monotonic() - t0 < 30
    waited = cli("jobs", "wait", str(mask_dataset), "scan", "--workspace", str(ws), cwd=tmp_path)
    assert waited.returncode == 0 and "scan: done" in waited.stdout, waited.stdout + waited.stderr
    assert (ws / "features.parquet").is_file()
    listed = json.loads(cli("jobs", "list", str(mask_dataset), "--workspace", str(ws), "--json",
                            cwd=tmp_path).stdout)
    assert [(j["kind"], j["state"], j["done"], j["total"]) for j in listed] == [("scan", "done", 21, 21)]
    assert "--background" not in listed[0]["argv"]
    gone = cli("jobs", "cancel", str(mask_dataset), "nothing", "--workspace", str(ws), cwd=tmp_path)
    assert gone.returncode == 1 and "no nothing job" in gone.stderr
