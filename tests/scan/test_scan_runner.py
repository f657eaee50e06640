"""scan_dataset: incremental by (path, size, mtime, version), resumable, parallel = serial."""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from labelscope.dataset import DatasetError
from labelscope.scan import ScanBusyError, load_features, load_thumbs, scan_dataset
from labelscope.scan.runner import scan_lock
from labelscope.workspace import Workspace


def make_folder(root: Path, n: int = 24) -> Path:
    """An ImageFolder dataset of ``n`` small distinct JPEGs in two classes."""
    rng = np.random.default_rng(0)
    for i in range(n):
        arr = np.clip(rng.normal(rng.uniform(30, 220, 3), 25, (40, 32, 3)), 0, 255).astype(np.uint8)
        p = root / ("cat" if i % 2 else "dog") / f"{i:03d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(p, quality=90)
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "ds")


@pytest.fixture
def pool_always(monkeypatch):
    """Start worker processes even for a handful of images (the default keeps small work in-process)."""
    import labelscope.scan.runner as runner

    monkeypatch.setattr(runner, "POOL_MIN_IMAGES", 0)


def frame(ws: Path) -> pd.DataFrame:
    return load_features(ws).set_index("image_id")


def test_first_scan_writes_features_thumbs_and_meta(folder, tmp_path):
    ws = tmp_path / "ws"
    calls = []
    s = scan_dataset(folder, ws, workers=1, progress=lambda d, t: calls.append((d, t)))
    assert (s.total, s.decoded, s.cached, s.unreadable, s.removed) == (24, 24, 0, 0, 0)
    df = load_features(ws)
    assert len(df) == 24 and df["image_id"].is_unique and (df["error"] == "").all()
    assert df["image_id"].tolist() == sorted(df["image_id"])  # manifest order
    assert (df["width"] == 32).all() and (df["height"] == 40).all()
    assert str(df["phash"].dtype) == "Int64"
    thumbs = load_thumbs(ws)
    assert set(thumbs) == set(df["image_id"]) and all(t[:2] == b"\xff\xd8" for t in thumbs.values())
    meta = json.loads((ws / "scan.json").read_text())
    assert meta["summary"]["decoded"] == 24 and meta["scanner_version"] and meta["settings"]["workers"] == 1
    assert calls[0] == (0, 24) and calls[-1] == (24, 24)
    assert not (ws / "scan_parts").exists()


def test_default_workspace_is_in_the_dataset_folder(folder):
    s = scan_dataset(folder, workers=1)
    assert Path(s.workspace) == folder / ".labelscope" and (folder / ".labelscope" / "features.parquet").exists()


def test_second_scan_decodes_nothing(folder, tmp_path):
    ws = tmp_path / "ws"
    scan_dataset(folder, ws, workers=1)
    before = (ws / "features.parquet").stat().st_mtime_ns
    s = scan_dataset(folder, ws, workers=1)
    assert (s.decoded, s.cached, s.unreadable) == (0, 24, 0)
    assert (ws / "features.parquet").stat().st_mtime_ns == before  # nothing rewritten


def test_truncated_image_is_the_only_one_decoded_and_reported(folder, tmp_path):
    ws = tmp_path / "ws"
    scan_dataset(folder, ws, workers=1)
    old = frame(ws)
    victim = folder / "dog" / "004.jpg"
    victim.write_bytes(victim.read_bytes()[:300])
    s = scan_dataset(folder, ws, workers=1)
    assert (s.decoded, s.cached, s.unreadable) == (1, 23, 1)
    new = frame(ws)
    assert new.loc["dog/004.jpg", "error"].startswith("truncated JPEG")
    others = new.drop(index="dog/004.jpg")
    pd.testing.assert_frame_equal(others, old.drop(index="dog/004.jpg"))
    assert "dog/004.jpg" not in load_thumbs(ws, ["dog/004.jpg", "cat/001.jpg"])


def test_changed_mtime_alone_means_decode_again(folder, tmp_path):
    ws = tmp_path / "ws"
    scan_dataset(folder, ws, workers=1)
    p = folder / "cat" / "001.jpg"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert scan_dataset(folder, ws, workers=1).decoded == 1


def test_removed_and_added_images(folder, tmp_path):
    ws = tmp_path / "ws"
    scan_dataset(folder, ws, workers=1)
    (folder / "cat" / "003.jpg").unlink()
    make_folder(tmp_path / "extra", n=2)
    (tmp_path / "extra" / "dog" / "000.jpg").rename(folder / "dog" / "new.jpg")
    s = scan_dataset(folder, ws, workers=1)
    assert (s.total, s.decoded, s.cached, s.removed) == (24, 1, 23, 1)
    ids = set(load_features(ws)["image_id"])
    assert "cat/003.jpg" not in ids and "dog/new.jpg" in ids
    assert "cat/003.jpg" not in load_thumbs(ws)


class Stop(Exception):
    pass


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_scan_keeps_finished_chunks(folder, tmp_path, workers, pool_always):
    ws = tmp_path / "ws"

    def stop_after_first_chunk(done, total):
        if done > 0:
            raise Stop

    with pytest.raises(Stop):
        scan_dataset(folder, ws, workers=workers, chunk_size=8, progress=stop_after_first_chunk)
    parts = list((ws / "scan_parts").glob("part-*.arrow"))
    assert len(parts) == 1 and not (ws / "features.parquet").exists()
    s = scan_dataset(folder, ws, workers=1, chunk_size=8)
    assert (s.decoded, s.cached, s.total) == (16, 8, 24)
    assert len(load_features(ws)) == 24 and len(load_thumbs(ws)) == 24
    assert not (ws / "scan_parts").exists()


def test_parallel_and_serial_scans_agree(folder, tmp_path, pool_always):
    scan_dataset(folder, tmp_path / "one", workers=1)
    s = scan_dataset(folder, tmp_path / "two", workers=2, chunk_size=5)
    assert s.decoded == 24 and s.workers == 2
    pd.testing.assert_frame_equal(load_features(tmp_path / "one"), load_features(tmp_path / "two"))
    assert load_thumbs(tmp_path / "one") == load_thumbs(tmp_path / "two")


def test_small_work_stays_in_process(folder, tmp_path):
    s = scan_dataset(folder, tmp_path / "ws", workers=4)
    assert s.decoded == 24 and s.workers == 1


def test_a_caller_executor_replaces_the_pool(folder, tmp_path):
    with ThreadPoolExecutor(3) as ex:
        s = scan_dataset(folder, tmp_path / "ws", executor=ex, chunk_size=4)
    assert s.decoded == 24 and s.workers == 0
    assert len(load_features(tmp_path / "ws")) == 24


def test_bad_files_never_stop_the_scan(folder, tmp_path, pool_always):
    (folder / "cat" / "empty.jpg").write_bytes(b"")
    (folder / "cat" / "notes.jpg").write_text("not a picture")
    (folder / "dog" / "half.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    Image.new("RGBA", (9, 7), (0, 0, 255, 128)).save(folder / "dog" / "alpha.png")
    from .test_scan_features import png_claiming

    (folder / "dog" / "bomb.png").write_bytes(png_claiming(20000, 20000))
    s = scan_dataset(folder, tmp_path / "ws", workers=2, chunk_size=4)
    assert (s.total, s.unreadable) == (29, 4)
    df = frame(tmp_path / "ws")
    assert df.loc["cat/empty.jpg", "error"] == "empty file (0 bytes)"
    assert df.loc["cat/notes.jpg", "error"].startswith("not an image")
    assert df.loc["dog/half.png", "error"] != ""
    assert df.loc["dog/alpha.png", "error"] == "" and df.loc["dog/alpha.png", "width"] == 9
    assert df.loc["dog/bomb.png", "error"].startswith("decompression bomb")


def test_file_deleted_after_listing_is_reported(folder, tmp_path):
    from labelscope.dataset import load_dataset

    manifest = load_dataset(folder)
    (folder / "dog" / "000.jpg").unlink()
    s = scan_dataset(folder, tmp_path / "ws", workers=1, manifest=manifest)
    assert s.unreadable == 1 and frame(tmp_path / "ws").loc["dog/000.jpg", "error"] == "file not found"
    assert scan_dataset(folder, tmp_path / "ws", workers=1, manifest=manifest).decoded == 0


def test_scanner_version_change_rescans_everything(folder, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    scan_dataset(folder, ws, workers=1)
    import labelscope.scan.runner as runner
    import labelscope.scan.table as table
    import labelscope.scan.worker as worker

    for mod in (runner, worker):
        monkeypatch.setattr(mod, "SCANNER_VERSION", "test-next")
    assert scan_dataset(folder, ws, workers=1).decoded == 24
    assert set(load_features(ws)["scanner_version"]) == {"test-next"}
    assert table  # imported for symmetry: the table module holds no version


def test_unusable_dataset_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError):
        scan_dataset(tmp_path / "empty", tmp_path / "ws")


def test_one_scan_per_workspace(folder, tmp_path):
    ws = Workspace(tmp_path / "ws").ensure()
    with scan_lock(ws):
        with pytest.raises(ScanBusyError):
            scan_dataset(folder, ws, workers=1)


def test_loaders_without_a_scan_say_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="labelscope scan"):
        load_features(tmp_path)
    with pytest.raises(FileNotFoundError, match="labelscope scan"):
        load_thumbs(tmp_path)


def test_load_features_columns_and_thumb_subsets(folder, tmp_path):
    scan_dataset(folder, tmp_path / "ws", workers=1)
    df = load_features(tmp_path / "ws", columns=["brightness"])
    assert list(df.columns) == ["image_id", "brightness"]
    got = load_thumbs(tmp_path / "ws", ["cat/001.jpg", "nope.jpg", "cat/001.jpg"])
    assert list(got) == ["cat/001.jpg"]
    assert load_thumbs(tmp_path / "ws", []) == {}


def repaint(path: Path, colour=(250, 250, 0)) -> None:
    """New pixels and a later mtime for an existing image."""
    st = path.stat()
    Image.new("RGB", (32, 40), colour).save(path, quality=90)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_thumbs_of_cached_images_survive_a_rescan(folder, tmp_path):
    ws = tmp_path / "ws"
    scan_dataset(folder, ws, workers=1)
    before = load_thumbs(ws)
    repaint(folder / "cat" / "005.jpg")
    assert scan_dataset(folder, ws, workers=1).decoded == 1
    after = load_thumbs(ws)
    assert after["cat/005.jpg"] != before["cat/005.jpg"]
    assert {k: v for k, v in after.items() if k != "cat/005.jpg"} == \
        {k: v for k, v in before.items() if k != "cat/005.jpg"}


def test_a_part_of_an_image_changed_since_is_not_reused(folder, tmp_path):
    ws = tmp_path / "ws"

    def stop(done, total):
        if done > 0:
            raise Stop

    with pytest.raises(Stop):
        scan_dataset(folder, ws, workers=1, chunk_size=8, progress=stop)
    first = sorted(load_dataset_ids(folder))[0]
    repaint(folder / first)
    s = scan_dataset(folder, ws, workers=1, chunk_size=8)
    assert (s.decoded, s.cached) == (17, 7)
    row = frame(ws).loc[first]
    assert row["mean_r"] > 240 and row["mean_b"] < 10


def load_dataset_ids(folder: Path) -> list[str]:
    from labelscope.dataset import load_dataset

    return load_dataset(folder).df["image_id"].tolist()
