"""User strings are shown as text, never as markdown: a label cannot make the browser fetch a URL."""
from __future__ import annotations

import re

import pytest

from conftest import REPO, start_app_test, write_image

EVIL = "![b](http://127.0.0.1:8999/x)"
LINK = "see http://127.0.0.1:8999/y"
# markdown that would become an image, a link or an autolink
ACTIVE = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)<|https?(?<!\\):")


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    from labelscope.scan import scan_dataset

    root = tmp_path_factory.mktemp("inj") / "ds"
    rows = ["path,label"]
    for k in range(6):
        label = EVIL if k % 2 else LINK
        write_image(root / "img" / f"{k}.jpg", seed=k)
        rows.append(f'img/{k}.jpg,"{label}"')
    (root / "list.csv").write_text("\n".join(rows) + "\n")
    scan_dataset(root / "list.csv", workers=1)
    return root / "list.csv"


def texts(at) -> list[str]:
    out = [c.value for c in at.caption] + [e.value for e in at.error] + [s.value for s in at.success]
    for el in at.get("image"):
        out += [img.caption for img in el.proto.imgs if img.caption]
    return out


def test_colours_mean_image_and_gallery_captions_are_plain_text(monkeypatch, injected):
    at = start_app_test(str(REPO / "pages" / "1_Colours.py"), monkeypatch, injected)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.button(key="colours.digest").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = texts(at)
    assert any("8999" in t for t in shown), shown  # the labels are shown...
    bad = [t for t in shown if ACTIVE.search(t)]
    assert not bad, bad  # ...as text


def test_a_stale_error_naming_a_label_is_plain_text(monkeypatch, injected):
    from labelscope.dataset import load_dataset
    from labelscope.review import open_review_store

    m = load_dataset(injected)
    at = start_app_test(str(REPO / "pages" / "2_Review.py"), monkeypatch, injected, reviewer="<img src=x>")
    at.session_state["review.gallery.selection"] = ["img/0.jpg"]
    at.run()
    at.selectbox(key="review.actions.value.label").set_value(EVIL)
    at.run()
    open_review_store(injected.parent / ".labelscope", manifest=m).relabel(  # bob, meanwhile
        ["img/0.jpg"], "label", EVIL, reviewer="bob", manifest=m, note="x")
    at.button(key="review.actions.relabel").click()
    at.run()
    assert not at.exception
    assert at.error and "8999" in at.error[0].value
    assert not ACTIVE.search(at.error[0].value), at.error[0].value
