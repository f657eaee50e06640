"""Layouts without persons hide person controls and wording: every page on an ImageFolder dataset."""
from __future__ import annotations

import re

import pytest

from conftest import REPO, start_app_test

PAGES = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]
PERSON_WORDS = re.compile(r"\b(person|persons|people|person's)\b", re.I)


def texts(node) -> list[str]:
    """Every string the page shows in an element or widget (labels, help, options, values)."""
    out = []
    proto = getattr(node, "proto", None)
    if proto is not None:
        out.append(str(proto))
    for child in getattr(node, "children", {}).values():
        out.extend(texts(child))
    return out


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_imagefolder_pages_say_nothing_of_persons(path, monkeypatch, folder_dataset):
    from labelscope.scan import scan_dataset

    scan_dataset(folder_dataset, workers=1)
    at = start_app_test(path, monkeypatch, folder_dataset, timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = "\n".join(line for t in texts(at._tree) for line in t.splitlines()
                      if not line.strip().startswith(("id:", "icon:", "key:")))  # widget keys are not wording
    hits = sorted({m.group(0) for m in PERSON_WORDS.finditer(shown)})
    lines = [line.strip() for line in shown.splitlines() if PERSON_WORDS.search(line)][:5]
    assert not hits, f"{path.name} mentions {hits}: {lines}"
