"""find_issues: the registry, the ranked table, and the suspects command end to end."""
from __future__ import annotations

import numpy as np
import pandas as pd

from labelscope.cli import main
from labelscope.issues import CHECKS, find_issues, load_suspects
from labelscope.issues.find import SUSPECT_COLUMNS


def test_registry_holds_one_check_per_module():
    assert set(CHECKS) == {"label", "person", "duplicate", "outlier", "quality"}
    assert set(CHECKS["person"].layouts) == {"mask", "attrs"}  # the layouts whose groups are people


def test_mask_world_ranks_person_faults_first_and_does_not_repeat_swapped_photos(mask_world):
    manifest, emb = mask_world(60, wrong_gender=(3, 17), wrong_age=(8,), swapped=(11, 40))
    table = find_issues(manifest, embeddings=[emb], checks=["person", "label", "outlier"])
    assert list(table.columns) == list(SUSPECT_COLUMNS)
    assert table["score"].is_monotonic_increasing and table["rank"].tolist() == list(range(1, len(table) + 1))
    injected = {("000003", "gender"), ("000017", "gender"), ("000008", "age"), ("000011", "mask"),
                ("000040", "mask")}
    top = set(zip(table["person"].head(2 * len(injected)), table["field"].head(2 * len(injected))))
    assert len(injected & top) >= 0.9 * len(injected)
    # the swapped photos are shown by the person row, not again as two label rows
    swapped_photos = {"images/000011/incorrect_mask.jpg", "images/000011/normal.jpg"}
    assert not set(table.loc[table["issue"] == "label", "image_id"]) & swapped_photos
    assert table.attrs["sources"]["gender"].startswith("out-of-fold logistic regression")


def test_all_rows_scores_every_image(mask_world):
    manifest, emb = mask_world(20)
    table = find_issues(manifest, embeddings=[emb], checks=["label"], all_rows=True)
    assert len(table) == len(manifest.df) and table["score"].between(0, 1).all()
    assert set(table["field"]) == {"mask"}


def test_suspects_command_on_a_fresh_folder_dataset(folder_dataset, tmp_path, capsys):
    # an exact copy under another class, and an unreadable file
    (folder_dataset / "dog" / "copy.jpg").write_bytes((folder_dataset / "cat" / "1.jpg").read_bytes())
    (folder_dataset / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "suspects.csv"
    ws = tmp_path / "ws"
    rc = main(["suspects", str(folder_dataset), "--workspace", str(ws), "--out", str(out),
               "--embedders", "colour"])
    assert rc == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns[:7]) == ["rank", "issue", "image_id", "person", "field", "score", "given"]
    assert df["score"].astype(float).is_monotonic_increasing
    first = df.iloc[0]
    assert (first["issue"], first["image_id"], float(first["score"])) == ("quality", "cat/broken.jpg", 0.0)
    dup = df[df["issue"] == "duplicate"]
    assert len(dup) == 1 and set(dup.iloc[0]["images"].split(";")) == {"cat/1.jpg", "dog/copy.jpg"}
    assert float(dup.iloc[0]["score"]) == 0.0          # same bytes, different labels
    cached = load_suspects(ws)
    assert cached is not None and len(cached) == len(df)
    assert "suspects" in capsys.readouterr().out
    assert np.isfinite(cached["score"]).all()
