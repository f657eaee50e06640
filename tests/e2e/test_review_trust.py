"""A review workflow a team can trust, in a real Chromium at 1024x768.

One reviewer: box-selects on the map and relabels exactly one chosen image; opens the
full-resolution viewer from the Queue; walks 5 Queue cards with a filter switch and an undo and
finds exactly those decisions in the audit log; accepts a duplicate card; swaps a person's masks
and writes the corrected tree, where that person's files are swapped on disk. Any console error,
or any request to a host other than this machine, fails the test. Screenshots of every step (and
the server log on failure): ``artifacts/e2e/test_review_workflow/``.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from labelscope.cli import main
from labelscope.dataset import load_dataset

from .conftest import ARTIFACTS, CHROME_ARGS, Server

pytestmark = pytest.mark.browser
LOCAL = {"127.0.0.1", "localhost", ""}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("trust") / "demo"
    from labelscope.demo import make_demo

    make_demo(root, people=12, seed=5)
    assert main(["scan", str(root)]) == 0
    assert main(["embed", str(root), "--embedder", "pixels", "--project", "pca"]) == 0
    assert main(["suspects", str(root), "--embedders", "pixels"]) == 0  # no --out: the workspace keeps it
    return root


def events(root: Path) -> list[tuple]:
    with sqlite3.connect(root / ".labelscope" / "review.sqlite") as con:
        return con.execute("SELECT id, image_id, field, new, action, batch, reverts FROM events ORDER BY id").fetchall()


def batches(rows: list[tuple]) -> list[tuple[str, set[str], str | None]]:
    """(action, images, reverts) per batch, in order."""
    out: dict[str, tuple[str, set[str], str | None]] = {}
    for _, image_id, _, _, action, batch, reverts in rows:
        out.setdefault(batch, (action, set(), reverts))[1].add(image_id)
    return list(out.values())


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def ok(page, pattern: str, timeout: int = 30_000):
    page.locator('[data-testid="stAlertContentSuccess"]', has_text=re.compile(pattern)).last.wait_for(timeout=timeout)


def goto(page, name: str, heading: str):
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=re.compile(rf"{name}$")).click()
    page.locator("h1", has_text=re.compile(heading, re.I)).wait_for()


def card_title(page) -> str:
    return page.locator("h3").filter(has_text="·").first.inner_text()


def settle(page, timeout: int = 30_000) -> None:
    """Wait until the last rerun has finished drawing: no element is left stale (greyed out), so the
    button clicked next is the live one and not the fading copy from before the rerun."""
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout)


def click_and_wait_new_card(page, button):
    settle(page)
    before = card_title(page)
    button.click()
    expect(page.locator("h3").filter(has_text="·").first).not_to_have_text(before, timeout=30_000)


def test_review_workflow(prepared, playwright_instance, chromium_path, tmp_path, shots):
    server = Server(prepared, tmp_path / "streamlit.log").start()
    ctx = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium_path, headless=True, args=CHROME_ARGS,
        viewport={"width": 1024, "height": 768})
    ctx.set_default_timeout(30_000)
    errors: list[str] = []
    foreign: list[str] = []
    ctx.on("request", lambda r: foreign.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
           and urlparse(r.url).hostname not in LOCAL else None)
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        _journey(page, server, prepared, tmp_path, shots)
        page.wait_for_timeout(300)
        assert not foreign, f"requests left this machine: {foreign[:5]}"
        assert not errors, f"console errors: {errors[:5]}"
    except BaseException:
        shots(page, "failure")
        folder = ARTIFACTS / "test_review_workflow"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "streamlit.log").write_bytes((tmp_path / "streamlit.log").read_bytes())
        raise
    finally:
        ctx.close()
        server.kill()


def _journey(page, server, root: Path, tmp_path: Path, shots) -> None:
    manifest = load_dataset(root)
    df = manifest.df.set_index("image_id")
    page.goto(f"{server.url}/?reviewer=alice")  # the reviewer's name comes back from the URL on a reload
    page.get_by_text("Class balance").wait_for()
    expect(page.get_by_role("textbox", name="Reviewer name", exact=True)).to_have_value("alice")

    # 1. Embeddings: a box selection shows its images with nothing ticked; tick one, relabel exactly it
    goto(page, "Embeddings", "Embeddings")
    drag = page.locator('[data-testid="stPlotlyChart"] .nsewdrag').first
    drag.wait_for()
    page.get_by_text("0 images in the map selection").wait_for()
    b = drag.bounding_box()
    page.mouse.move(b["x"] + b["width"] * 0.2, b["y"] + b["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] * 0.8, b["y"] + b["height"] * 0.8, steps=10)
    page.mouse.up()
    shown = page.get_by_text(re.compile(r"^[1-9][\d,]* images in the map selection"))
    shown.wait_for(timeout=20_000)
    n = int(shown.inner_text().split()[0].replace(",", ""))
    assert n > 1
    page.get_by_text(f"0 of {n} image(s) selected on the Embeddings page").wait_for()
    boxes = page.get_by_role("checkbox", name="select")
    boxes.first.wait_for(state="attached")
    assert boxes.count() >= 2 and not any(boxes.nth(k).is_checked() for k in range(boxes.count()))
    cell = boxes.first.locator("xpath=ancestor::div[@data-testid='stColumn'][1]")
    first_caption = cell.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    boxes.first.check(force=True)
    page.get_by_text(f"1 of {n} image(s) selected on the Embeddings page").wait_for()
    shots(page, "embeddings-one-ticked")
    page.get_by_role("combobox", name="Field", exact=True).last.click()
    page.get_by_role("option", name="mask", exact=True).click()
    page.get_by_role("button", name="Relabel mask of 1 image(s)").wait_for()
    page.get_by_role("combobox", name="New mask", exact=True).last.click()
    page.get_by_role("option", name="incorrect", exact=True).click()
    page.get_by_role("button", name="Relabel mask of 1 image(s)").click()
    ok(page, "1 event\\(s\\) on 1 image\\(s\\) recorded as alice")
    rows = events(root)
    assert len(rows) == 1 and rows[0][2:5] == ("mask", "incorrect", "relabel")
    relabelled = rows[0][1]
    assert first_caption.split(" · ")[0] == f"{df.at[relabelled, 'group_id']}/{Path(relabelled).stem}"  # the ticked one

    # 2. Queue: the full-resolution viewer from a card shows more pixels than the thumbnail
    goto(page, "Queue", "queue")
    page.get_by_text(re.compile(r"^Suspect 1 of")).wait_for()
    if "unreadable" in page.get_by_text(re.compile(r"^Suspect 1 of")).inner_text():  # no picture to view
        click_and_wait_new_card(page, page.get_by_role("button", name=re.compile(r"^Skip")))
    thumb = page.locator('[data-testid="stImage"] img').first
    thumb.wait_for()
    thumb_w = thumb.bounding_box()["width"]
    page.get_by_role("button", name=re.compile(r"View$")).first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(re.compile(r"\d+ × \d+ px · image 1 of")).wait_for()
    full = dialog.locator(".js-plotly-plot image").first
    full.wait_for()
    size = dialog.get_by_text(re.compile(r"\d+ × \d+ px")).inner_text()
    w, h = (int(v) for v in re.search(r"(\d+) × (\d+) px", size).groups())
    assert full.bounding_box()["width"] > thumb_w and w > 96
    shots(page, "queue-viewer")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # 3. A duplicate card: both copies side by side; accept = exclude this copy
    assert " · duplicate · " in card_title(page)  # the viewer was opened on it
    expect(page.get_by_text("This copy", exact=True)).to_be_visible()
    expect(page.get_by_text("The other copy", exact=True)).to_be_visible()
    title = card_title(page)
    this = title.split(" · ")[-1]
    shots(page, "queue-duplicate")
    page.get_by_role("button", name=re.compile(r"^Accept: exclude this")).last.click()
    page.get_by_text(re.compile(r"Accepted: excluded this copy")).first.wait_for()
    last = events(root)[-1]
    assert (last[1], last[2], last[3], last[4]) == (this, "excluded", "1", "exclude")

    # 4. Walk 5 cards: keep, keep, switch the filter, keep, keep, undo, keep again
    before = len(events(root))
    made: list[str] = []

    def keep() -> None:
        made.append(card_title(page))
        click_and_wait_new_card(page, page.get_by_role("button", name=re.compile(r"^Keep")).last)

    keep()
    keep()
    click_and_wait_new_card(page, page.get_by_role("button", name="Person", exact=True))  # pills: drop Person
    assert "person" not in card_title(page).split(" · ")[1]
    keep()
    keep()
    undone_card = made[-1]
    click_and_wait_new_card(page, page.get_by_role("button", name=re.compile(r"^Undo")).last)
    assert card_title(page) == undone_card  # the card whose decision was undone
    keep()
    shots(page, "queue-walked")
    log = batches(events(root)[before:])
    assert [a for a, _, _ in log] == ["confirm", "confirm", "confirm", "confirm", "undo", "confirm"]
    assert log[4][2] is not None and log[4][1] == log[3][1]  # the undo reverts the 4th decision's images
    for (action, images, _), title in zip([x for k, x in enumerate(log) if k != 4], made[:4] + made[5:]):
        what = title.split(" · ")[-1]
        if what.startswith("person "):
            assert {str(df.at[i, "group_id"]) for i in images} == {what.split()[1]}
        else:
            assert what in images

    # 5. Swap a person's masks, write the corrected tree, find the files swapped on disk
    goto(page, "Person", "Person")
    gid = manifest.df["group_id"].iloc[0]  # the person the page opens with
    expect(page.get_by_role("combobox", name="Person id", exact=True)).to_have_value(gid)
    page.get_by_role("button", name=re.compile("Swap incorrect")).click()
    ok(page, "recorded as alice")
    folder = df[df["group_id"] == gid]["person_path"].iloc[0]
    goto(page, "Export", "Export")
    out = tmp_path / "tree"
    field = page.get_by_role("textbox", name="Folder", exact=True)
    field.fill(str(out))
    field.press("Enter")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Write corrected dataset").click()
    ok(page, r"Wrote \d+ images")
    shots(page, "export-tree")
    src = root / "images" / folder
    dst = out / "images" / folder
    assert digest(dst / "incorrect_mask.jpg") == digest(src / "normal.jpg")
    assert digest(dst / "normal.jpg") == digest(src / "incorrect_mask.jpg")
    assert not (out / this).is_file() or digest(out / this) != digest(root / this)  # the excluded copy is left out
