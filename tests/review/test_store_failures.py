"""The review database when things go wrong: unopenable, read-only, disk full; and one age rule."""
from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from conftest import make_mask_dataset
from labelscope.cli import main
from labelscope.dataset import check_dataset, load_dataset
from labelscope.review import ReviewError, StoreUnavailable, open_review_store


@pytest.fixture
def mask(tmp_path):
    return load_dataset(make_mask_dataset(tmp_path / "mask"))


def test_a_directory_in_place_of_the_database_is_named_even_by_read_only_commands(mask, capsys):
    db = mask.root / ".labelscope" / "review.sqlite"
    db.mkdir(parents=True)
    for argv in (["review", "log", str(mask.root)], ["export", str(mask.root)]):
        assert main(argv) == 1
        assert f"{db} is a directory" in capsys.readouterr().err
    assert db.is_dir() and not any(db.iterdir())


def test_read_only_opening_creates_nothing_and_refuses_writes(tmp_path, mask):
    ws = tmp_path / "never-made"
    store = open_review_store(ws, read_only=True)
    assert store.version() == 0 and store.events().empty  # a missing database is an empty log
    with pytest.raises(StoreUnavailable, match="read-only"):
        store.flag([mask.df["image_id"].iloc[0]], reviewer="ana", manifest=mask)
    assert not ws.exists()
    # an existing log is read through mode=ro: every decision is there
    rw = open_review_store(tmp_path / "ws", manifest=mask)
    rw.relabel_person("000002", "age", 61, reviewer="ana", manifest=mask)
    ro = open_review_store(tmp_path / "ws", read_only=True)
    assert len(ro.events()) == 7
    assert set(ro.current_labels(mask).df.query("group_id == '000002'")["age"]) == {61}


def test_log_and_export_read_through_a_read_only_connection(mask, monkeypatch, capsys):
    """What a read-only workspace looks like to SQLite ("attempt to write a readonly database" on any
    write), simulated: root ignores file permissions, so chmod alone would prove nothing here."""
    import labelscope.review.db as dbmod

    store = open_review_store(mask.root / ".labelscope", manifest=mask)
    store.relabel_person("000002", "age", 61, reviewer="ana", manifest=mask)
    store.close()
    real = dbmod.connect

    def refusing(path, *, read_only=False):
        if not read_only:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real(path, read_only=True)

    monkeypatch.setattr(dbmod, "connect", refusing)
    assert main(["review", "log", str(mask.root)]) == 0
    assert capsys.readouterr().out.count("relabel") == 7
    out = mask.root / "out"
    assert main(["export", str(mask.root), "--out", str(out)]) == 0
    assert "61" in (out / "train.csv").read_text()
    with pytest.raises(ReviewError, match="cannot be written .*read-only"):
        open_review_store(mask.root / ".labelscope", manifest=mask)


def test_disk_full_during_review_apply_writes_nothing_and_keeps_every_decision(mask, tmp_path, capsys):
    store = open_review_store(mask.root / ".labelscope", manifest=mask)
    store.relabel_person("000001", "gender", "male", reviewer="ana", manifest=mask)
    store.close()
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("image_id,field,new,note\n" + "".join(
        f"{i},flagged,1,{'n' * 1500}\n" for i in mask.df["image_id"]))
    import labelscope.review.db as dbmod

    real = dbmod.connect

    def small_disk(path, *, read_only=False):
        con = real(path, read_only=read_only)
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's own "database or disk is full"
        return con

    dbmod.connect = small_disk
    try:
        code = main(["review", "apply", str(mask.root), str(fixes), "--reviewer", "bob"])
    finally:
        dbmod.connect = real
    err = capsys.readouterr().err
    assert code == 1 and "is full" in err and "nothing of this action was written" in err
    ev = open_review_store(mask.root / ".labelscope").events()
    assert len(ev) == 7 and set(ev["reviewer"]) == {"ana"}


def test_disk_full_during_a_scan_is_a_message_and_the_cache_survives(mask, monkeypatch, capsys):
    from labelscope.workspace import Workspace

    assert main(["scan", str(mask.root), "--workers", "1"]) == 0
    capsys.readouterr()
    feats = Workspace(mask.root / ".labelscope").features
    before = feats.read_bytes()
    (mask.root / "images" / "000001_female_Asian_25" / "mask1.jpg").touch()  # one image to rescan
    import labelscope.workspace as wsmod

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(feats))

    monkeypatch.setattr(wsmod.os, "replace", full)
    code = main(["scan", str(mask.root), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "disk is full" in err and "Traceback" not in err
    assert feats.read_bytes() == before


@pytest.mark.parametrize("age, ok", [(" 45 ", True), ("45.0", True), ("+45", False), ("٤٥", False),
                                     ("4e1", False), ("131", False)])
def test_check_and_review_apply_agree_on_every_age(tmp_path, age, ok):
    root = make_mask_dataset(tmp_path / "mask")
    text = (root / "train.csv").read_text().replace(",Asian,45,", f",Asian,{age},")
    (root / "train.csv").write_text(text)
    accepted_by_check = not [p for p in check_dataset(root).problems if p.code == "bad_age"]
    m = load_dataset(make_mask_dataset(tmp_path / "clean"))
    fixes = tmp_path / "fixes.csv"
    fixes.write_text(f'person,field,new\n000002,age,"{age}"\n')
    from labelscope.review import apply_fixes

    try:
        apply_fixes(fixes, open_review_store(tmp_path / "ws", manifest=m), m, reviewer="ana")
        accepted_by_apply = True
    except ReviewError:
        accepted_by_apply = False
    assert accepted_by_check == accepted_by_apply == ok


def test_backup_holds_the_decisions_a_plain_copy_misses(mask, tmp_path, capsys):
    import shutil

    store = open_review_store(mask.root / ".labelscope", manifest=mask)  # the app: its connection stays open
    store.relabel_person("000002", "age", 61, reviewer="ana", manifest=mask)
    store.flag([mask.df["image_id"].iloc[0]], reviewer="bob", manifest=mask)
    db = mask.root / ".labelscope" / "review.sqlite"
    shutil.copy(db, tmp_path / "cp.sqlite")
    copied = sqlite3.connect(tmp_path / "cp.sqlite").execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert copied < 8  # the decisions are still in review.sqlite-wal
    assert main(["review", "backup", str(mask.root), str(tmp_path / "bk.sqlite")]) == 0
    assert "backed up 8 event(s) (up to #8)" in capsys.readouterr().out
    restored = open_review_store(tmp_path, db_url=str(tmp_path / "bk.sqlite"), read_only=True)
    assert restored.events()[["reviewer", "new"]].values.tolist() == store.events()[["reviewer", "new"]].values.tolist()
    assert main(["review", "backup", str(mask.root), str(db)]) == 1  # never over the live database
    assert "live review database" in capsys.readouterr().err


def test_review_log_prints_notes_as_one_escaped_line(mask, capsys):
    store = open_review_store(mask.root / ".labelscope", manifest=mask)
    iid = mask.df["image_id"].iloc[0]
    store.flag([iid], reviewer="ana", manifest=mask,
               note="fine\n     9  2026-01-01 00:00:00  admin  relabel gender  x -> y  forged\x1b[2J\x1b]0;pwned\x07")
    assert main(["review", "log", str(mask.root)]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1 and "\x1b" not in out and "\x07" not in out
    assert "fine\\n" in out and "\\x1b[2J" in out
