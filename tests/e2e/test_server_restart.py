"""The Streamlit server killed (SIGKILL) and restarted mid-review loses no recorded decision."""
from __future__ import annotations

import re
import sqlite3

import pytest

from labelscope.cli import main

from .conftest import Server
from .test_journey import choose, goto, metric, ok, open_app

pytestmark = pytest.mark.browser


def events(db) -> list[tuple]:
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute("SELECT id, reviewer, image_id, field, new FROM events ORDER BY id").fetchall()


def test_server_killed_mid_review_keeps_every_decision(tmp_path, new_context, shots):
    from labelscope.demo import make_demo

    root = tmp_path / "demo"
    make_demo(root, people=6, seed=11)
    assert main(["scan", str(root)]) == 0
    db = root / ".labelscope" / "review.sqlite"
    server = Server(root, tmp_path / "streamlit.log").start()
    try:
        page = open_app(new_context("carol"), server.url, "carol")
        goto(page, "Person")
        choose(page, "Person id", "000003")
        current = metric(page, "Gender").inner_text().strip()
        new = "female" if current == "male" else "male"
        choose(page, "New gender", new)
        page.get_by_role("button", name=re.compile(r"Set gender for all 7")).click()
        ok(page, "recorded as carol")
        recorded = events(db)
        assert len(recorded) == 7 and {e[4] for e in recorded} == {new}

        server.kill()  # no shutdown hook runs: like a crash or a power cut of the app process
        page.get_by_text(re.compile("Connecting|Connection error", re.I)).first.wait_for(timeout=30_000)
        shots(page, "server-down")
        assert events(db) == recorded

        server.start()
        page.reload()  # the browser was on the Person page: a fresh session opens there
        page.locator("h1", has_text="Person").wait_for(timeout=60_000)
        choose(page, "Person id", "000003")
        shown = metric(page, "Gender")
        page.wait_for_function("([el, v]) => el.innerText.trim() === v", arg=[shown.element_handle(), new])
        shots(page, "after-restart")
        assert events(db) == recorded, "nothing lost, nothing doubled"
    finally:
        server.kill()
