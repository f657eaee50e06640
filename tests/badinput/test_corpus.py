"""Every bad-input case: scan, check and export all work, the problem is named, nothing else is lost."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from labelscope.cli import main
from labelscope.dataset import check_dataset

from .corpus import Case, build_corpus

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    roots, cases = build_corpus(tmp_path_factory.mktemp("corpus"))
    return roots, cases


@pytest.fixture(scope="module")
def scanned(corpus):
    """Each usable dataset scanned once (workers=2, so the pool path is exercised)."""
    from labelscope.scan import load_features, scan_dataset

    roots, _ = corpus
    out = {}
    for kind in ("folder", "csv", "mask", "mask-linked"):
        summary = scan_dataset(roots[kind], workers=2)
        out[kind] = (summary, load_features(summary.workspace))
    return out


def pytest_generate_tests(metafunc):
    """Parametrize by the corpus itself, so adding a case adds its tests."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        _, cases = build_corpus(Path(d))
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", cases, ids=[c.name for c in cases])
    if "scan_case" in metafunc.fixturenames:
        cases = [c for c in cases if c.scan_error is not None]
        metafunc.parametrize("scan_case", cases, ids=[c.name for c in cases])


def test_corpus_has_at_least_20_cases(corpus):
    assert len(corpus[1]) >= 20


def test_check_names_the_problem(corpus, case: Case, capsys):
    roots, _ = corpus
    m = check_dataset(roots[case.dataset])
    if case.problem is None:
        assert case.image_id in set(m.df.image_id), f"{case.name}: the image must stay in the dataset"
        return
    hits = [p for p in m.problems if p.code == case.problem]
    assert hits, f"{case.name}: expected a {case.problem} problem, got {[str(p) for p in m.problems]}"
    if case.row is not None:
        assert any(p.row == case.row for p in hits), f"{case.name}: row {case.row} not named in {hits}"
    # `labelscope check` prints it with the file/row and exits 0 unless nothing is usable
    code = main(["check", str(roots[case.dataset])])
    out = capsys.readouterr().out
    assert case.problem in out
    if case.row is not None:
        assert f":{case.row}" in out
    assert code == (1 if m.errors else 0)


def test_scan_names_the_file_and_keeps_the_rest(scanned, scan_case: Case):
    case = scan_case
    summary, feats = scanned[case.dataset]
    row = feats.set_index("image_id").loc[case.image_id]
    if case.scan_error == "":
        assert row["error"] == "", f"{case.name}: {row['error']}"
        if case.size:
            assert (row["width"], row["height"]) == case.size
    else:
        assert case.scan_error in row["error"].lower(), f"{case.name}: error was {row['error']!r}"
    good = feats[feats.image_id.str.startswith(("good/", "imgs/", "images/"))]
    assert len(good) and (good["error"] == "").all(), "every good image decodes"
    assert summary.total == len(feats)


def test_export_keeps_every_usable_row(corpus, tmp_path):
    from labelscope.review import export_labels, open_review_store

    roots, _ = corpus
    for kind in ("folder", "csv", "mask", "csv-signed", "mask-linked"):
        m = check_dataset(roots[kind])
        ws = tmp_path / f"ws-{kind}"
        result = export_labels(m, open_review_store(ws), tmp_path / f"out-{kind}")
        labels = pd.read_csv(tmp_path / f"out-{kind}" / "labels.csv", dtype=str, keep_default_na=False)
        assert sorted(labels["image_id"]) == sorted(m.df["image_id"]), kind
        assert result is not None
    labels = pd.read_csv(tmp_path / "out-csv" / "labels.csv", dtype=str, keep_default_na=False)
    formula = labels.loc[labels.image_id == "imgs/c.jpg", "label"].item()
    assert formula == "=HYPERLINK(1)", "a label round-trips exactly (only free text is neutralised)"
    from labelscope.train.data import LabelsDataset

    signed = LabelsDataset(tmp_path / "out-csv-signed" / "labels.csv", roots["csv-signed"].parent)
    assert len(signed) == 8 and all(Path(p).is_file() for p, _ in signed.samples)  # training finds every file
    linked = pd.read_csv(tmp_path / "out-mask-linked" / "labels.csv", dtype=str)
    assert linked["image_id"].str.startswith("images/").all() and len(linked) == 21


def test_a_damaged_review_db_is_named_by_every_command_and_left_untouched(corpus, tmp_path, capsys):
    import hashlib

    roots, _ = corpus
    root = roots["mask-baddb"]
    db = root / ".labelscope" / "review.sqlite"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    (tmp_path / "fixes.csv").write_text("person,field,new\n000001,age,30\n")
    for argv in (["review", "log", str(root)], ["export", str(root), "--out", str(tmp_path / "out")],
                 ["review", "apply", str(root), str(tmp_path / "fixes.csv"), "--reviewer", "ana"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert str(db) in err and "left untouched" in err and "labelscope review backup" in err, (argv, err)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["review.sqlite"]  # no -wal/-shm written beside it
    assert not (tmp_path / "out").exists()


def test_unusable_csv_reports_and_exits_1(corpus, capsys):
    roots, _ = corpus
    assert main(["check", str(roots["csv-nocols"])]) == 1
    assert "missing_columns" in capsys.readouterr().out


PAGES = sorted(p.name for p in (Path(__file__).resolve().parents[2] / "pages").glob("*.py"))


@pytest.mark.parametrize("kind", ["folder", "csv", "mask", "csv-nocols", "mask-alias", "mask-quote", "csv-signed",
                                  "csv-loop", "mask-linked", "mask-baddb"])
def test_every_page_renders_on_the_corpus(corpus, scanned, kind, monkeypatch):
    """The app's pages on each bad dataset: no exception, the problem shown, not a crash."""
    from streamlit.testing.v1 import AppTest

    from conftest import REPO

    roots, _ = corpus
    monkeypatch.setenv("LABELSCOPE_DATASET", str(roots[kind]))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["reviewer"] = "corpus"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    m = check_dataset(roots[kind])
    if kind == "mask-baddb":  # every page says it, naming the file
        assert "review.sqlite" in at.error[0].value and "left untouched" in at.error[0].value
    elif m.errors:
        assert "cannot be used" in at.error[0].value
        shown = pd.concat([d.value for d in at.dataframe if "code" in d.value.columns])
        assert set(m.problems_frame()["code"]) <= set(shown["code"])
        if kind != "csv-nocols":
            assert set(m.problems_frame()["row"].dropna()) <= set(shown["row"].dropna())  # the lines named
    elif m.problems:
        shown = pd.concat([d.value for d in at.dataframe if "code" in d.value.columns])
        assert set(m.problems_frame()["code"]) <= set(shown["code"])
    for page in PAGES:
        at.switch_page(str(REPO / "pages" / page)).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        if kind == "mask-baddb":
            assert any("review.sqlite" in e.value for e in at.error), page
