"""The Queue keeps its place: next unreviewed card of the filter, per-card form and messages, Undo,
duplicate cards with four answers, and "review deeper" after the flagged items."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from labelscope.dataset import load_dataset
from labelscope.issues import issue_frame, load_suspects, rank_suspects, save_suspects
from labelscope.issues.find import as_suspects, queue_order
from labelscope.queue import decisions
from labelscope.review import open_review_store
from labelscope.scan import scan_dataset

APP = str(REPO / "app.py")
PAGE = str(REPO / "pages" / "9_Queue.py")


def table_for(folder_dataset):
    labels = issue_frame("label", {
        "image_id": ["cat/0.jpg", "dog/3.jpg", "cat/1.jpg", "dog/0.jpg", "cat/2.jpg"],
        "is_label_issue": [True, True, True, False, False], "label_score": [0.05, 0.2, 0.3, 0.5, 0.45],
        "field": "label", "given": ["cat", "dog", "cat", "dog", "cat"],
        "suggested": ["dog", "cat", "dog", "cat", "dog"], "confidence": [0.9, 0.7, 0.6, 0.4, 0.4],
        "detail": "model says so"})
    dups = issue_frame("duplicate", {
        "image_id": ["dog/1.jpg"], "is_duplicate_issue": [True], "duplicate_score": [0.0], "field": "",
        "given": ["dog"], "suggested": ["cat"], "detail": ["exact copy of cat/3.jpg labelled cat"],
        "images": ["cat/3.jpg;dog/1.jpg"]})
    every = rank_suspects([as_suspects("label", labels), as_suspects("duplicate", dups)], all_rows=True)
    return queue_order(every)


def test_queue_order_puts_flagged_first_then_the_rest_by_score(tmp_path, folder_dataset):
    t = table_for(folder_dataset)
    assert t["image_id"].tolist() == ["dog/1.jpg", "cat/0.jpg", "dog/3.jpg", "cat/1.jpg", "cat/2.jpg", "dog/0.jpg"]
    assert t["rank"].tolist() == [1, 2, 3, 4, 5, 6] and t["flagged"].tolist() == [True] * 4 + [False] * 2
    save_suspects(t, tmp_path / "ws")
    assert len(load_suspects(tmp_path / "ws")) == 4 and len(load_suspects(tmp_path / "ws", deeper=True)) == 6


def test_position_helpers():
    done = [True, False, True, False]
    assert decisions.choose_position([10, 11, 12, 13], done, None, pinned=False) == 1
    assert decisions.choose_position([10, 11, 12, 13], done, 12, pinned=False) == 1  # reviewed, not pinned
    assert decisions.choose_position([10, 11, 12, 13], done, 12, pinned=True) == 2   # went back to it
    assert decisions.choose_position([10, 11, 12, 13], done, 99, pinned=True) == 1   # not in this filter
    assert decisions.choose_position([10, 11], [True, True], None, pinned=False) is None
    assert decisions.next_open(done, 1) == 3 and decisions.next_open(done, 3) == 1
    assert decisions.next_open([True, True], 0) is None


def test_duplicate_answers_write_what_they_say(tmp_path, folder_dataset):
    m = load_dataset(folder_dataset)
    store = open_review_store(tmp_path / "ws", manifest=m)
    row = table_for(folder_dataset).iloc[0]
    assert decisions.duplicate_pair(row) == ("dog/1.jpg", "cat/3.jpg")
    assert decisions.suggestion_text(row) == "exclude this copy from training"
    ev = decisions.match_other(store, row, reviewer="ana", manifest=m)
    assert [(e["image_id"], e["field"], e["old"], e["new"]) for e in ev] == [("dog/1.jpg", "label", "dog", "cat")]
    ev = decisions.exclude_copy(store, row, "other", reviewer="ana", manifest=m)
    assert [(e["image_id"], e["field"], e["new"]) for e in ev] == [("cat/3.jpg", "excluded", "1")]
    ev = decisions.keep_both(store, row, reviewer="ana", manifest=m)
    assert sorted(e["image_id"] for e in ev) == ["cat/3.jpg", "dog/1.jpg"] and {e["action"] for e in ev} == {"confirm"}


@pytest.fixture
def queue_app(folder_dataset, tmp_path, monkeypatch):
    import streamlit as st

    ws = tmp_path / "ws"
    scan_dataset(folder_dataset, ws, workers=1)
    save_suspects(table_for(folder_dataset), ws)
    monkeypatch.setenv("LABELSCOPE_DATASET", str(folder_dataset))
    monkeypatch.setenv("LABELSCOPE_WORKSPACE", str(ws))
    monkeypatch.delenv("LABELSCOPE_DB_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["reviewer"] = "ana"
    at.run()
    return at.switch_page(PAGE), ws


def title(at) -> str:
    return at.subheader[0].value.replace("\\", "")


def ok(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_filter_switch_undo_and_per_card_state(queue_app):
    at, ws = queue_app
    ok(at.run())
    assert "dog/1.jpg" in title(at)  # the duplicate card: both copies, with ids and labels
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert "dog/1.jpg · dog" in captions and "cat/3.jpg · cat" in captions
    assert at.button(key="queue.accept").label == "Accept: exclude this"
    at.button(key="queue.accept").click()
    ok(at.run())
    events = open_review_store(ws).events()
    assert events[["image_id", "field", "new"]].values.tolist() == [["dog/1.jpg", "excluded", "1"]]
    assert "cat/0.jpg" in title(at) and not at.success  # the previous card's message is not on this one
    assert any("#1: Accepted: excluded this copy" in c.value.replace("\\", "") for c in at.caption)
    # the relabel form opens with this card's value and belongs to this card
    at.button(key="queue.relabel_open").click()
    ok(at.run())
    rank = at.session_state["queue.current"]
    assert at.selectbox(key=f"queue.card{rank}.relabel_value.label").value == "cat"
    at.button(key="queue.skip").click()
    ok(at.run())
    assert "dog/3.jpg" in title(at)
    assert not [w for w in at.selectbox if w.key and w.key.endswith("relabel_value.label")]  # not carried over
    # switch the filter to Label only: the first unreviewed label card (the skipped cat/0.jpg), not #3 of 4
    at.pills(key="queue.issues").set_value(["label"])
    ok(at.run())
    assert "cat/0.jpg" in title(at)
    at.button(key="queue.keep").click()
    ok(at.run())
    assert "dog/3.jpg" in title(at)
    at.button(key="queue.undo").click()
    ok(at.run())
    assert "cat/0.jpg" in title(at)  # undo shows the card whose decision it reverted
    ev = open_review_store(ws).events()
    assert ev[["image_id", "field", "new", "action"]].values.tolist() == [
        ["dog/1.jpg", "excluded", "1", "exclude"], ["cat/0.jpg", "confirmed", "1", "confirm"],
        ["cat/0.jpg", "confirmed", "0", "undo"]]
    assert ev.iloc[-1]["reverts"] == ev.iloc[1]["batch"]
    notes = [c.value.replace("\\", "") for c in at.caption]
    assert any("Last: Undone: undid confirmed back from '1' to '0' on cat/0.jpg" in c and "(card #2)" in c
               for c in notes)  # says what it undid


def test_review_deeper_after_the_flagged_items(queue_app):
    at, ws = queue_app
    ok(at.run())
    at.pills(key="queue.issues").set_value(["label"])
    ok(at.run())
    for _ in range(3):
        at.button(key="queue.keep").click()
        ok(at.run())
    assert "cat/2.jpg" in title(at)  # the next in the label ranking, though no check flagged it
    assert any("Review deeper: 1 of 2" in c.value for c in at.caption)
    assert any("Reviewed 3 / 3" in p.proto.text for p in at.get("progress"))


def test_viewer_opens_the_full_resolution_image_from_a_card(queue_app):
    at, ws = queue_app
    ok(at.run())
    at.button(key="queue.card1.view.cat/3.jpg").click()
    ok(at.run())
    text = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert "**cat/3.jpg** · cat" in text and "48 × 64 px · image 2 of 2" in text  # decoded at its own size
    at.button(key="viewer.prev").click()
    ok(at.run())
    assert "dog/1.jpg" in " ".join(m.value.replace("\\", "") for m in at.markdown)
