"""``labelscope scan``: JSON summary, incremental counts on the demo data, errors and progress."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from labelscope.cli import main
from labelscope.commands.progress import ProgressLine, format_seconds
from labelscope.scan import load_features


def scan_json(capsys, *args: str) -> dict:
    assert main(["scan", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_scan_is_incremental_by_counts(demo_copy: Path, capsys, monkeypatch):
    import labelscope.scan.runner as runner

    monkeypatch.setattr(runner, "POOL_MIN_IMAGES", 0)  # the first scan runs in 2 worker processes
    n = sum(1 for p in (demo_copy / "images").rglob("*") if p.is_file())
    first = scan_json(capsys, str(demo_copy), "--workers", "2")
    assert first["total"] == n and first["decoded"] == n and first["cached"] == 0 and first["workers"] == 2
    assert first["unreadable"] >= 1  # the demo plants one unreadable file
    assert {"total", "decoded", "cached", "unreadable", "seconds"} <= set(first)

    second = scan_json(capsys, str(demo_copy))
    assert (second["decoded"], second["cached"], second["unreadable"]) == (0, n, first["unreadable"])

    ws = demo_copy / ".labelscope"
    before = load_features(ws).set_index("image_id")
    victim = next(i for i, e in before["error"].items() if e == "" and i.endswith(".jpg"))
    path = demo_copy / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    third = scan_json(capsys, str(demo_copy), "--workers", "1")
    assert (third["decoded"], third["cached"]) == (1, n - 1)
    assert third["unreadable"] == first["unreadable"] + 1
    assert victim in {f["image_id"] for f in third["unreadable_files"]}
    after = load_features(ws).set_index("image_id")
    assert after.loc[victim, "error"].startswith("truncated JPEG")
    pd.testing.assert_frame_equal(after.drop(index=victim), before.drop(index=victim))


def test_human_output_and_progress_on_stderr(tmp_path: Path, capsys):
    from PIL import Image

    for i in range(3):
        (tmp_path / "ds" / "a").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (i * 50, 0, 0)).save(tmp_path / "ds" / "a" / f"{i}.png")
    assert main(["scan", str(tmp_path / "ds"), "--workspace", str(tmp_path / "ws"), "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert "3 images: 3 decoded, 0 cached, 0 unreadable" in out and str(tmp_path / "ws") in out
    assert "scanned 3/3" in err


def test_unusable_dataset_exits_1_with_its_errors(tmp_path: Path, capsys):
    assert main(["scan", str(tmp_path / "nowhere"), "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "does not exist" in err and "cannot be used" in err


def test_validation_warnings_are_counted_not_fatal(tmp_path: Path, capsys):
    from PIL import Image

    root = tmp_path / "csvds"
    root.mkdir()
    Image.new("RGB", (8, 8)).save(root / "a.png")
    (root / "labels.csv").write_text("path,label\na.png,x\nmissing.png,y\n")
    assert main(["scan", str(root / "labels.csv"), "--json"]) == 0
    out, err = capsys.readouterr()
    d = json.loads(out)
    assert d["total"] == 1 and d["decoded"] == 1 and d["warnings"] == 1
    assert "1 validation warnings" in err
    assert (root / ".labelscope" / "features.parquet").exists()


def test_progress_line_counts_rate_and_eta():
    buf = io.StringIO()
    line = ProgressLine("scanned", stream=buf, every=0.0)
    line(10, 110)  # 10 cached at the start
    line(60, 110)
    text = buf.getvalue().splitlines()
    assert text[0].startswith("scanned 10/110 (9%, 10 cached)")
    assert "60/110" in text[1] and "img/s" in text[1] and "ETA" in text[1]
    assert format_seconds(75) == "1m15s" and format_seconds(3700) == "1h01m"
