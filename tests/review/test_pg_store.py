"""The review store on a real, throwaway PostgreSQL (tests/review/conftest.py: pg_server)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from conftest import REPO
from labelscope.dataset import load_dataset
from labelscope.review import ReviewStore, StaleLabelError, StoreUnavailable, export_labels, open_review_store
from labelscope.review import schema, transfer
from labelscope.review.errors import ReviewError

from .test_review_concurrency import ACTIONS, API_WORKER, PROCS, _run_all, people4  # noqa: F401

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}


def _decide(store, m):
    """The same decisions on any store: relabels, a person relabel, states, an undo."""
    ids = m.df["image_id"].tolist()
    store.relabel(ids[:2], "age", 33, reviewer="ana", manifest=m)
    store.relabel_person("000002", "gender", "female", reviewer="bo", manifest=m)
    store.flag(ids[3:5], reviewer="ana", manifest=m)
    store.exclude([ids[-1]], reviewer="bo", manifest=m)
    store.confirm([ids[6]], reviewer="ana", manifest=m, note="looks right, \"quoted\"")
    store.undo("bo")


def test_same_events_and_guarantees_as_sqlite(pg_url, mask, tmp_path):
    a = open_review_store(tmp_path / "ws", db_url=pg_url, manifest=mask)   # server A
    b = open_review_store(tmp_path / "ws", db_url=pg_url, manifest=mask)   # server B, own connection
    assert isinstance(a, ReviewStore) and "postgresql://" in str(a.path)
    i = mask.df["image_id"].iloc[0]
    b.latest()  # B has folded the log before A's change
    a.relabel([i], "gender", "male", reviewer="ana", expected_old="female")
    with pytest.raises(StaleLabelError, match=r"changed to 'male' by ana at") as e:
        b.relabel([i], "gender", "female", reviewer="bo", expected_old="female")
    assert e.value.conflicts[0][:4] == (i, "gender", "female", "male")
    assert b.current_labels(mask).df.set_index("image_id").at[i, "gender"] == "male"  # B sees A's fix
    # all or nothing: one unknown id refuses the whole batch
    n = len(a.events())
    with pytest.raises(ReviewError):
        a.relabel([i, "nope"], "age", 40, reviewer="ana")
    assert len(a.events()) == n
    assert [e["action"] for e in a.undo("ana")] == ["undo"]
    assert a.current_labels(mask).df.set_index("image_id").at[i, "gender"] == "female"
    assert b.undo("ana", session="other-browser") == []  # undo by session identity


def test_export_byte_identical_to_sqlite(pg_url, mask, tmp_path):
    pg_store = open_review_store(tmp_path / "pg", db_url=pg_url, manifest=mask)
    lite = open_review_store(tmp_path / "lite", manifest=mask)
    _decide(pg_store, mask)
    _decide(lite, mask)
    a, b = export_labels(mask, pg_store, tmp_path / "out_pg"), export_labels(mask, lite, tmp_path / "out_lite")
    for name in ("labels.csv", "train.csv"):  # decided independently: the labels files are identical
        assert (tmp_path / "out_pg" / name).read_bytes() == (tmp_path / "out_lite" / name).read_bytes()
    assert a.changed == b.changed > 0
    # the very same events (copied, same timestamps): every file identical, summary.json included
    back = tmp_path / "back.sqlite"
    transfer.copy_events(pg_url, str(back))
    export_labels(mask, ReviewStore(back, read_only=True), tmp_path / "out_back")
    for name in ("labels.csv", "train.csv", "summary.json"):
        assert (tmp_path / "out_pg" / name).read_bytes() == (tmp_path / "out_back" / name).read_bytes()


def test_four_processes_250_decisions_each_exactly_1000_events(pg_url, people4, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    env = {**ENV, "LABELSCOPE_DB": pg_url}
    procs = [subprocess.Popen([sys.executable, "-c", API_WORKER, str(people4), str(tmp_path / f"ws{k % 2}"),
                               str(k), str(ACTIONS), str(gate)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=REPO) for k in range(PROCS)]
    import time
    deadline = time.monotonic() + 120
    while len(list(gate.glob("ready*"))) < PROCS and time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
        time.sleep(0.01)
    (gate / "go").touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    m = load_dataset(people4)
    store = open_review_store(tmp_path / "ws0", db_url=pg_url, manifest=m)
    ev = store.events()
    assert len(ev) == PROCS * ACTIONS and ev["id"].is_unique
    assert ev.groupby("reviewer").size().to_dict() == {f"w{k}": ACTIONS for k in range(PROCS)}
    cur = store.current_labels(m).df.set_index("image_id")["age"].astype(int).to_dict()
    for r in results:
        for i, age in r["final"].items():
            assert cur[i] == age


def test_fold_is_right_when_ids_commit_out_of_order(pg_url, mask, tmp_path):
    store = open_review_store(tmp_path / "ws", db_url=pg_url, manifest=mask)
    i, j = mask.df["image_id"].iloc[0], mask.df["image_id"].iloc[1]
    store.flag([j], reviewer="ana")
    store.latest()
    ins = ("INSERT INTO events (at, reviewer, image_id, field, old, new, action, note, batch) "
           "VALUES (%s, %s, %s, 'age', '25', %s, 'relabel', '', %s) RETURNING id")
    slow = psycopg.connect(pg_url)
    fast = psycopg.connect(pg_url, autocommit=True)
    slow.execute("SELECT pg_current_xact_id()")
    low = slow.execute(ins, ("2026-01-01T00:00:00", "slow", i, "40", "b1")).fetchone()[0]
    high = fast.execute(ins, ("2026-01-01T00:00:01", "fast", j, "41", "b2")).fetchone()[0]
    assert low < high
    seen = store.latest().set_index(["image_id", "field"])
    assert seen.at[(j, "age"), "new"] == "41" and (i, "age") not in seen.index  # the lower id is not committed
    slow.commit()
    seen = store.latest().set_index(["image_id", "field"])
    assert seen.at[(i, "age"), "new"] == "40"  # committed after a higher id: still folded in
    # and a later event of the same slot with a higher id that commits first wins over a lower one
    slow.execute("SELECT pg_current_xact_id()")
    slow.execute(ins, ("2026-01-01T00:00:02", "slow", i, "50", "b3"))
    fast.execute(ins, ("2026-01-01T00:00:03", "fast", i, "60", "b4"))
    store.latest()
    slow.commit()
    assert store.latest().set_index(["image_id", "field"]).at[(i, "age"), "new"] == "60"
    assert store.current_labels(mask).df.set_index("image_id").at[i, "age"] == 60
    fresh = ReviewStore(store._db.__class__(pg_url)).latest().sort_values(["image_id", "field"])
    assert fresh.reset_index(drop=True).equals(store.latest().sort_values(["image_id", "field"]).reset_index(drop=True))
    slow.close()
    fast.close()


def test_newer_schema_is_refused(pg_url, tmp_path):
    open_review_store(tmp_path / "ws", db_url=pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE store_meta SET value = %s WHERE key = 'schema'", (str(schema.CODE_VERSION + 1),))
    for ro in (False, True):
        with pytest.raises(StoreUnavailable, match=f"schema version {schema.CODE_VERSION + 1}, newer than this"):
            open_review_store(tmp_path / "ws", db_url=pg_url, read_only=ro)
    lite = tmp_path / "ws" / "review.sqlite"
    open_review_store(tmp_path / "ws").close()
    import sqlite3
    with sqlite3.connect(lite) as con:
        con.execute("UPDATE store_meta SET value = '9' WHERE key = 'schema'")
    with pytest.raises(StoreUnavailable, match="schema version 9, newer than this labelscope"):
        open_review_store(tmp_path / "ws")


def test_bad_url_one_clear_message_password_masked(pg_server, tmp_path, mask_dataset, capsys):
    port = pg_server.rsplit(":", 1)[1]
    bad = {
        f"postgresql://ana:hunter2@127.0.0.1:1/x": "cannot be reached",
        f"postgresql://postgres:hunter2@127.0.0.1:{port}/no_such_db": "does not exist",
        f"postgresql://nobody:hunter2@127.0.0.1:{port}/postgres": "was refused",
    }
    for url, why in bad.items():
        with pytest.raises(StoreUnavailable) as e:
            open_review_store(tmp_path / "ws", db_url=url)
        msg = str(e.value)
        assert "hunter2" not in msg and ":***@127.0.0.1" in msg and why in msg and "nothing was written" in msg
    from labelscope.cli import main

    fixes = tmp_path / "fixes.csv"
    fixes.write_text("image_id,field,new\n000001_mask1,age,30\n")
    url = next(iter(bad))
    assert main(["review", "apply", str(mask_dataset), str(fixes), "--reviewer", "ana", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.count("labelscope: error:") == 1 and "hunter2" not in err and "ana:***@" in err
    assert not (mask_dataset / ".labelscope" / "review.sqlite").exists()  # wrote nothing, not even locally


def test_db_copy_round_trip_loses_nothing(pg_url, mask, tmp_path, capsys):
    from labelscope.cli import main

    lite = open_review_store(tmp_path / "ws", manifest=mask)
    _decide(lite, mask)
    before = transfer.summary(transfer.database(str(lite.path), read_only=True))
    assert main(["db", "init", pg_url]) == 0
    assert main(["db", "copy", str(lite.path), pg_url]) == 0
    assert f"copied {before[0]} event(s)" in capsys.readouterr().out
    back = tmp_path / "back.sqlite"
    assert main(["db", "copy", pg_url, str(back)]) == 0
    assert transfer.summary(transfer.database(str(back), read_only=True)) == before
    assert transfer.summary(transfer.database(pg_url, read_only=True)) == before
    # a non-empty target is refused; the PostgreSQL sequence continues after the copied ids
    assert main(["db", "copy", str(lite.path), pg_url]) == 1
    assert "already holds" in capsys.readouterr().err
    pg_store = open_review_store(tmp_path / "ws", db_url=pg_url, manifest=mask)
    ev = pg_store.flag([mask.df["image_id"].iloc[0]], reviewer="cy")
    assert ev[0]["id"] == before[0] + 1
    assert main(["db", "migrate", pg_url]) == 0 and "up to date" in capsys.readouterr().out
