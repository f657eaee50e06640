"""A reviewer's whole journey in a real Chromium, and a second reviewer at the same time.

Server: ``streamlit run app.py`` on a free localhost port against a fresh demo dataset that was
scanned, embedded (raw pixels, PCA) and ranked (``labelscope suspects``) beforehand, as a user
would with the CLI. Screenshots of every step: ``artifacts/e2e/<test name>/``.
"""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from labelscope.cli import main
from labelscope.dataset import load_dataset

from .conftest import Server

pytestmark = pytest.mark.browser
FIELDS = ["gender", "age", "mask"]  # the label fields labels.csv carries


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "demo"
    from labelscope.demo import make_demo

    make_demo(root, people=12, seed=5)
    assert main(["scan", str(root)]) == 0
    assert main(["embed", str(root), "--embedder", "pixels", "--project", "pca"]) == 0
    assert main(["suspects", str(root), "--embedders", "pixels", "--out", str(root.parent / "s.csv")]) == 0
    return root


@pytest.fixture
def server(prepared, tmp_path):
    srv = Server(prepared, tmp_path / "streamlit.log").start()
    yield srv
    srv.kill()


def open_app(ctx, url: str, reviewer: str):
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    page.goto(url)
    page.get_by_text("Class balance").wait_for()
    box = page.get_by_role("textbox", name="Reviewer name", exact=True)
    box.fill(reviewer)
    box.press("Enter")
    page.wait_for_timeout(300)
    return page


def goto(page, name: str):
    """Navigate with the sidebar (same session, so the reviewer's name stays)."""
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=re.compile(rf"{name}$")).click()
    page.locator("h1", has_text=re.compile(name if name != "Queue" else "queue", re.I)).wait_for()


def choose(page, label: str, option: str):
    """Pick ``option`` in the Streamlit selectbox labelled ``label``.

    A rerun that lands just after the click can close the list, so open it again until it shows.
    """
    box = page.get_by_role("combobox", name=label, exact=True).last
    opt = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        box.click()
        try:
            opt.wait_for(timeout=3_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    opt.click()
    page.wait_for_function(
        "([l, o]) => [...document.querySelectorAll('[role=combobox]')].some("
        "e => e.getAttribute('aria-label') === l && (e.value === o || e.textContent.includes(o)))",
        arg=[label, option])


def metric(page, label: str):
    """The value element of the ``st.metric`` labelled ``label``."""
    return page.locator('[data-testid="stMetric"]', has_text=label).locator('[data-testid="stMetricValue"]')


def ok(page, pattern: str):
    page.locator('[data-testid="stAlertContentSuccess"]', has_text=re.compile(pattern)).last.wait_for(timeout=30_000)


def expected_from_events(db: Path) -> dict[tuple[str, str], str]:
    """(image, field) -> the value the newest relabel/undo event gave it, straight from SQLite."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT image_id, field, new FROM events WHERE action IN ('relabel', 'undo') "
                           "AND field != '' ORDER BY id").fetchall()
    out: dict[tuple[str, str], str] = {}
    for image_id, field, new in rows:
        if field in FIELDS:
            out[(image_id, field)] = new
    return out


def exported_changes(labels_csv: Path, dataset: Path) -> dict[tuple[str, str], str]:
    """(image, field) -> value for every field that differs from the dataset on disk."""
    original = load_dataset(dataset).df.set_index("image_id")
    exported = pd.read_csv(labels_csv, dtype=str, keep_default_na=False).set_index("image_id")
    out = {}
    for image_id, row in exported.iterrows():
        for f in FIELDS:
            if str(original.at[image_id, f]) != row[f]:
                out[(image_id, f)] = row[f]
    return out


def test_reviewer_journey(server, new_context, shots, prepared, tmp_path):
    alice_ctx, bob_ctx = new_context("alice"), new_context("bob")
    alice = open_app(alice_ctx, server.url, "alice")
    bob = open_app(bob_ctx, server.url, "bob")
    alice.get_by_text("Class balance").wait_for()
    alice.locator('[data-testid="stPlotlyChart"]').first.wait_for()
    shots(alice, "overview")

    # Embeddings: box-select a region of the map, see the gallery, relabel the selection
    goto(alice, "Embeddings")
    drag = alice.locator('[data-testid="stPlotlyChart"] .nsewdrag').first
    drag.wait_for()
    alice.get_by_text("0 images in the map selection").wait_for()
    b = drag.bounding_box()
    alice.mouse.move(b["x"] + b["width"] * 0.2, b["y"] + b["height"] * 0.2)
    alice.mouse.down()
    alice.mouse.move(b["x"] + b["width"] * 0.8, b["y"] + b["height"] * 0.8, steps=10)
    alice.mouse.up()
    selected = alice.get_by_text(re.compile(r"^[1-9][\d,]* images in the map selection"))
    selected.wait_for(timeout=15_000)
    n = int(selected.inner_text().split()[0].replace(",", ""))
    alice.locator('[data-testid="stImage"]').first.wait_for()
    alice.get_by_role("button", name=f"Select all {n:,}").click()  # nothing is ticked until asked
    alice.get_by_text(f"{n:,} of {n:,} image(s) selected on the Embeddings page").wait_for()
    shots(alice, "embeddings-selection")
    choose(alice, "Field", "mask")
    choose(alice, "New mask", "incorrect")
    alice.get_by_role("button", name=re.compile(rf"Relabel mask of {n}")).click()
    if n > 1:  # more than one image: asked again with the count
        alice.get_by_role("button", name=f"Yes, relabel {n:,} images").click()
    ok(alice, "recorded as alice")
    shots(alice, "embeddings-relabelled")

    # Bob, at the same time, fixes a person's age in the Person view
    goto(bob, "Person")
    choose(bob, "Person id", "000002")
    # under load the rerun that draws 000002's panel can land after a fill: wait for its age first
    age_of_2 = str(int(load_dataset(prepared).df.query("group_id == '000002'")["age"].iloc[0]))
    spin = bob.get_by_role("spinbutton", name="New age", exact=True)
    if age_of_2 != "71":
        expect(spin).to_have_value(age_of_2, timeout=30_000)
    spin.fill("71")
    spin.press("Enter")
    expect(spin).to_have_value("71", timeout=30_000)
    bob.get_by_role("button", name=re.compile(r"Set age for all 7")).click()
    ok(bob, "recorded as bob")
    shots(bob, "bob-person-age")

    # Queue: walk to the first suggested relabel (skipping "exclude" items) and accept it
    goto(alice, "Queue")
    alice.get_by_text(re.compile(r"Suspect 1 of")).wait_for()
    shots(alice, "queue")
    for _ in range(30):
        if alice.get_by_role("button", name=re.compile(r"^Accept(?!:)")).count():
            break
        caption = alice.get_by_text(re.compile(r"^Suspect \d+ of"))
        before = caption.inner_text()
        alice.get_by_role("button", name=re.compile(r"^Skip")).click()
        expect(caption).not_to_have_text(before, timeout=15_000)
    title = alice.locator("h3").filter(has_text="·").first.inner_text()
    alice.get_by_role("button", name=re.compile(r"^Accept(?!:)")).click()
    # the card's message goes with its card; the next card names the decision made on it
    alice.get_by_text(re.compile(r"^Last: #\d+: Accepted")).wait_for(timeout=30_000)
    shots(alice, "queue-accepted")

    # Person view: fix one person's gender for all 7 photos
    goto(alice, "Person")
    choose(alice, "Person id", "000005")
    current = metric(alice, "Gender").inner_text().strip()
    new_gender = "female" if current == "male" else "male"
    choose(alice, "New gender", new_gender)
    alice.get_by_role("button", name=re.compile(r"Set gender for all 7")).click()
    ok(alice, "recorded as alice")
    shots(alice, "person-gender")

    # Export: download and check that exactly the recorded changes are in the file
    goto(alice, "Export")
    alice.get_by_role("button", name="Export corrected labels").click()
    ok(alice, "Exported")
    with alice.expect_download() as dl:
        alice.get_by_role("button", name="Download labels.csv").click()
    path = tmp_path / "labels.csv"
    dl.value.save_as(path)
    shots(alice, "export")

    db = prepared / ".labelscope" / "review.sqlite"
    original = load_dataset(prepared).df.set_index("image_id")
    expected = {k: v for k, v in expected_from_events(db).items() if str(original.at[k[0], k[1]]) != v}
    got = exported_changes(path, prepared)
    assert got == expected, "the export holds exactly the recorded changes"
    assert {"mask", "age"} <= {f for (_, f) in got}, "the selection's and bob's fixes arrived"
    exported = pd.read_csv(path, dtype=str).set_index("image_id")
    assert (exported[exported.person == "000002"]["age"] == "71").all(), "bob's decision is in the export"
    assert (exported[exported.person == "000005"]["gender"] == new_gender).sum() == 7, "alice's person fix, all 7"
    assert n > 0 and title
