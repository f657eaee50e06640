"""AppTest: long work started from the app runs as a background job whose progress survives a
page reload (a new session reads the same progress file) and can be cancelled from it; the
Overview shows a suspects job started with the server; the Queue re-ranks in the background
after a batch of decisions and refreshes when the new suspects land."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, start_app_test
from labelscope import jobs
from labelscope.issues import issue_frame, rank_suspects, save_suspects
from labelscope.issues.find import as_suspects
from labelscope.review import open_review_store
from labelscope.scan import scan_dataset

APP, FACES, QUEUE = str(REPO / "app.py"), str(REPO / "pages" / "5_Faces.py"), str(REPO / "pages" / "9_Queue.py")


def ok(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def wait_for(ws: Path, kind: str, cond, timeout: float = 120.0) -> jobs.JobState:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = jobs.read(ws, kind)
        if state is not None and cond(state):
            return state
        assert state is None or state.active, f"{kind} ended early: {state and jobs.describe(state)}"
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting on the {kind} job")


def progress_texts(at) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


@pytest.fixture
def cleanup():
    started: list[tuple[Path, str]] = []
    yield started
    for ws, kind in started:
        jobs.cancel(ws, kind, timeout=2)


def test_face_detection_job_survives_a_reload_and_is_cancelled_from_it(monkeypatch, demo_copy, cleanup):
    ws = demo_copy / ".labelscope"
    cleanup.append((ws, "faces"))
    first = ok(start_app_test(FACES, monkeypatch, demo_copy).run())
    first.selectbox(key="faces.backend").set_value("mtcnn")  # the careful detector: long enough to watch
    first.button(key="faces.detect").click()
    ok(first.run())
    assert any("Face detection" in t for t in progress_texts(first))  # the block, right after the click
    running = wait_for(ws, "faces", lambda s: s.state == "running" and s.done > 0)
    assert running.argv[:2] == ["faces", str(demo_copy)] and "mtcnn" in running.argv

    reloaded = ok(start_app_test(FACES, monkeypatch, demo_copy).run())  # a new session: the page reloaded
    texts = progress_texts(reloaded)
    assert any("Face detection" in t and "/84 images" in t and "images/s" in t for t in texts), texts
    assert reloaded.button(key="faces.detect").disabled  # one face job at a time
    reloaded.button(key="jobs.faces.cancel").click()
    ok(reloaded.run())
    final = jobs.read(ws, "faces")
    assert final.state == "cancelled" and final.done < final.total
    ok(reloaded.run())
    assert any("Face detection cancelled" in w.value for w in reloaded.warning)
    assert not reloaded.button(key="faces.detect").disabled


def test_overview_shows_the_suspects_job_started_with_the_server(monkeypatch, demo_copy, cleanup):
    """What `make run` does on a fresh clone: `labelscope suspects ... --background`, then the app."""
    ws = demo_copy / ".labelscope"
    cleanup.append((ws, "suspects"))
    out = subprocess.run([sys.executable, "-m", "labelscope", "suspects", str(demo_copy), "--background"],
                         capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert out.returncode == 0, out.stderr
    wait_for(ws, "suspects", lambda s: s.state == "running" and s.total > 0)
    at = ok(start_app_test(APP, monkeypatch, demo_copy).run())
    assert any("Ranking suspects" in t for t in progress_texts(at))
    at.button(key="jobs.suspects.cancel").click()
    ok(at.run())
    assert jobs.read(ws, "suspects").state == "cancelled"
    ok(at.run())
    assert not at.button(key="overview.find").disabled  # it can be started again from here


@pytest.fixture
def queue_ws(folder_dataset, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    scan_dataset(folder_dataset, ws, workers=1)
    rows = issue_frame("label", {
        "image_id": ["cat/0.jpg", "dog/3.jpg"], "is_label_issue": [True, True], "label_score": [0.05, 0.2],
        "field": "label", "given": ["cat", "dog"], "suggested": ["dog", "cat"], "confidence": [0.9, 0.7],
        "detail": ["model and neighbours say dog", "model and neighbours say cat"]})
    save_suspects(rank_suspects([as_suspects("label", rows)]), ws)
    monkeypatch.setenv("LABELSCOPE_WORKSPACE", str(ws))
    return folder_dataset, ws


def test_queue_reranks_after_a_batch_of_decisions_and_shows_the_new_suspects(monkeypatch, queue_ws, cleanup):
    dataset, ws = queue_ws
    cleanup.append((ws, "suspects"))
    at = start_app_test(APP, monkeypatch, dataset)
    monkeypatch.setenv("LABELSCOPE_WORKSPACE", str(ws))  # start_app_test leaves the workspace to the env
    ok(at.run())
    at = ok(at.switch_page(QUEUE).run())
    assert any("Reviewed 0 / 2" in t for t in progress_texts(at))
    store = open_review_store(ws)
    store.flag(["cat/1.jpg", "cat/2.jpg", "cat/3.jpg", "dog/0.jpg", "dog/1.jpg"], reviewer="bo")
    ok(at.run())
    assert jobs.read(ws, "suspects") is None  # 5 decisions: not a batch yet
    store.unflag(["cat/1.jpg", "cat/2.jpg", "cat/3.jpg", "dog/0.jpg", "dog/1.jpg"], reviewer="bo")
    version = store.version()
    ok(at.run())
    started = jobs.read(ws, "suspects")
    assert started is not None and started.info["review_version"] == version >= 10
    assert started.argv[:2] == ["suspects", str(dataset)]
    final = jobs.wait(ws, "suspects", timeout=240)
    assert final.state == "done", jobs.log_tail(final)
    ok(at.run())  # the poll sees the new table and reruns the page
    assert any("ranked again" in c.value for c in at.caption)
    table = pd.read_parquet(ws / "suspects.parquet")
    flagged = int(table["flagged"].sum()) if "flagged" in table.columns else len(table)
    shown = [t for t in progress_texts(at) if t.startswith("Reviewed")] or [e.value for e in at.success]
    # the page shows the table the job wrote (the hand-made two rows are gone)
    assert (shown[0].startswith(f"Reviewed 0 / {flagged:,}") if len(table)
            else shown == ["No suspects: nothing to review."]), (shown, flagged)
    ok(at.run())
    assert jobs.read(ws, "suspects").id == final.id  # no new batch: no second re-ranking
