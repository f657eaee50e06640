"""The disk filling up during an export leaves the previous export intact and says why.

Uses a real 256 KiB tmpfs when this process may mount one (root, as in CI); elsewhere a writer
patched to fail with ENOSPC half-way through a file. The assertions are the same either way.
"""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from labelscope.cli import main
from labelscope.dataset import load_dataset
from labelscope.review import open_review_store


def _mount_tmpfs(where: Path) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A folder that runs out of space once ``fill()`` is called."""
    disk = tmp_path / "disk"
    real = _mount_tmpfs(disk)

    def fill() -> None:
        if real:  # leave a few hundred bytes: the next export's first file cannot fit
            with open(disk / "filler", "wb", buffering=0) as f:
                try:
                    while True:
                        f.write(b"\0" * 512)
                except OSError as e:
                    assert e.errno == errno.ENOSPC
            return
        real_write = Path.write_bytes

        def failing(self: Path, data: bytes) -> int:
            if disk in self.parents:
                real_write(self, data[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
            return real_write(self, data)

        monkeypatch.setattr(Path, "write_bytes", failing)

    yield disk, fill
    if real:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_disk_full_during_export_keeps_previous_export(mask_dataset, tmp_path, small_disk, capsys):
    disk, fill = small_disk
    out = disk / "export"
    ws = tmp_path / "ws"
    assert main(["export", str(mask_dataset), "--workspace", str(ws), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) >= {"labels.csv", "train.csv", "summary.json"}

    m = load_dataset(mask_dataset)
    store = open_review_store(ws, manifest=m)
    store.relabel_person("000001", "gender", "male", reviewer="ana", manifest=m)
    fill()
    capsys.readouterr()
    assert main(["export", str(mask_dataset), "--workspace", str(ws), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "previous export is kept" in err
    (disk / "filler").unlink(missing_ok=True)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before, "the previous export is byte-for-byte intact, and no temporary file is left"
    assert len(store.events()) == 7, "the decision itself is safe in the review store"
