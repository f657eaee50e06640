"""Entry-point rules: one change marker (``workspace.fingerprint``), ``Workspace.of``, a manifest
cache key that sees every folder, and library functions taking the manifest first."""
from __future__ import annotations

import os

from conftest import write_image
from labelscope.workspace import MISSING, Workspace, fingerprint, tree_fingerprint


def test_fingerprint_is_size_and_mtime_or_missing(tmp_path):
    f = tmp_path / "a.txt"
    assert fingerprint(f) == MISSING == (-1, -1)
    f.write_text("abc")
    os.utime(f, ns=(1, 5_000_000_000))
    assert fingerprint(f) == (3, 5_000_000_000)


def test_workspace_of_coerces_once(tmp_path):
    ws = Workspace(tmp_path)
    assert Workspace.of(ws) is ws and Workspace.of(str(tmp_path)).root == ws.root


def test_tree_fingerprint_sees_an_image_added_inside_a_class_folder(folder_dataset):
    before = tree_fingerprint(folder_dataset)
    assert tree_fingerprint(folder_dataset) == before
    (folder_dataset / ".labelscope").mkdir()
    (folder_dataset / ".labelscope" / "x").write_text("workspace writes do not count")
    assert tree_fingerprint(folder_dataset) == before
    write_image(folder_dataset / "cat" / "new.jpg")
    added = tree_fingerprint(folder_dataset)
    assert added != before
    (folder_dataset / "cat" / "new.jpg").rename(folder_dataset / "dog" / "new.jpg")
    assert tree_fingerprint(folder_dataset) not in (before, added)


def test_app_manifest_refreshes_when_an_image_is_added(folder_dataset, monkeypatch):
    from labelscope.config import Settings
    from labelscope.ui import cache

    s = Settings.build(dataset=str(folder_dataset))
    cache._manifest.clear()
    assert len(cache.manifest(s)) == 8
    write_image(folder_dataset / "dog" / "9.jpg", seed=9)
    monkeypatch.setattr(cache, "TOKEN_TTL_S", 0.0)  # the next rerun, not within the same second
    assert len(cache.manifest(s)) == 9


def test_scan_takes_the_manifest_first(folder_dataset):
    from labelscope.dataset import load_dataset
    from labelscope.scan import load_features, scan_dataset

    m = load_dataset(folder_dataset)
    summary = scan_dataset(m, workers=1)
    assert summary.total == summary.decoded == 8
    assert sorted(load_features(folder_dataset / ".labelscope")["image_id"]) == sorted(m.df["image_id"])
