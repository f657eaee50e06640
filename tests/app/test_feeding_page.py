"""AppTest of the Feeding page with a small setting: form, run, verdicts, chart, suggestions."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from conftest import REPO, make_mask_dataset

PAGE = str(REPO / "pages" / "10_Feeding.py")


def test_feeding_page_measures_a_small_setting(monkeypatch, tmp_path: Path):
    ds = make_mask_dataset(tmp_path / "mask")
    monkeypatch.setenv("LABELSCOPE_DATASET", str(ds))
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Measure" in i.value for i in at.info)  # nothing measured yet
    at.number_input(key="feeding.img_size").set_value(32)
    at.multiselect(key="feeding.batch_sizes").set_value([4, 8])
    at.multiselect(key="feeding.workers").set_value([0])
    at.number_input(key="feeding.batches").set_value(1)
    at.checkbox(key="feeding.decoders").uncheck()
    at.number_input(key="feeding.threads").set_value(1)  # one torch thread: quick even on a busy machine
    next(b for b in at.button if b.label == "Measure").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]

    report = at.session_state["feeding.report"]
    assert list(report.verdicts["batch_size"]) == [4, 8] and report.config["img_size"] == 32
    assert report.config["torch_threads"] == 1
    verdicts = at.dataframe[0].value  # the verdict table comes first, then the transform orders
    for row, v in zip(verdicts.itertuples(index=False), report.verdicts.itertuples(index=False)):
        assert row[4].startswith(f"{v.bound}-bound")
    spec = json.loads(at.get_by_key("feeding.rates").proto.spec)
    names = [t["name"] for t in spec["data"]]
    assert names == ["loader, 0 workers", "model"]
    assert {m.label for m in at.metric} >= {"Best setting", "Verdict"}
    words = " ".join(m.value for m in at.markdown)
    assert report.suggestions[0] in words
    assert len(at.dataframe) == 2 and list(at.dataframe[1].value["order"]) == ["resize_then_rotate", "rotate_then_resize"]
    assert report.decode is None
