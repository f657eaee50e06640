"""The disk filling up under the review database: `review apply` says so, writes nothing, loses nothing.

A real 256 KiB tmpfs where this process may mount one (root, as in CI); elsewhere SQLite's own
page limit gives the same SQLITE_FULL (tests/review/test_store_failures.py).
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

from labelscope.cli import main
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store

from .test_disk_full import _mount_tmpfs


def test_review_apply_on_a_full_disk_keeps_every_decision(mask_dataset, tmp_path, capsys):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk):
        pytest.skip("needs root to mount a tmpfs; the SQLite page-limit variant covers this elsewhere") \
            if os.environ.get("CI") != "true" else pytest.fail("CI runs as root and must mount the tmpfs")
    try:
        m = load_dataset(mask_dataset)
        ws = disk / "ws"
        store = open_review_store(ws, manifest=m)
        store.relabel_person("000001", "gender", "male", reviewer="ana", manifest=m)
        store.close()
        with open(disk / "filler", "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 512)
            except OSError as e:
                assert e.errno == errno.ENOSPC
        fixes = tmp_path / "fixes.csv"
        fixes.write_text("image_id,field,new,note\n" + "".join(f"{i},flagged,1,{'n' * 1500}\n" for i in m.df["image_id"]))
        code = main(["review", "apply", str(mask_dataset), str(fixes), "--reviewer", "bob", "--workspace", str(ws)])
        err = capsys.readouterr().err
        assert code == 1 and "is full" in err and "Traceback" not in err, err
        (disk / "filler").unlink()
        ev = open_review_store(ws).events()
        assert len(ev) == 7 and set(ev["reviewer"]) == {"ana"}
        assert main(["review", "apply", str(mask_dataset), str(fixes), "--reviewer", "bob", "--workspace", str(ws)]) == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)


def test_review_log_and_export_read_a_read_only_workspace(mask_dataset, tmp_path, capsys):
    """A workspace on a filesystem remounted read-only (EROFS binds root too): the read-only
    commands still read every decision, and a write is refused by name."""
    disk = tmp_path / "rodisk"
    if not _mount_tmpfs(disk):
        pytest.skip("needs root to mount a tmpfs") if os.environ.get("CI") != "true" else \
            pytest.fail("CI runs as root and must mount the tmpfs")
    try:
        m = load_dataset(mask_dataset)
        ws = disk / "ws"
        store = open_review_store(ws, manifest=m)
        store.relabel_person("000002", "age", 61, reviewer="ana", manifest=m)
        store.close()
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        assert main(["review", "log", str(mask_dataset), "--workspace", str(ws)]) == 0
        assert capsys.readouterr().out.count("relabel") == 7
        out = tmp_path / "out"
        assert main(["export", str(mask_dataset), "--workspace", str(ws), "--out", str(out)]) == 0
        assert "61" in (out / "train.csv").read_text()
        fixes = tmp_path / "fixes.csv"
        fixes.write_text("person,field,new\n000001,age,30\n")
        assert main(["review", "apply", str(mask_dataset), str(fixes), "--reviewer", "bob", "--workspace", str(ws)]) == 1
        err = capsys.readouterr().err
        assert "review.sqlite" in err and "cannot be written" in err and "Traceback" not in err, err
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(disk, ignore_errors=True)
