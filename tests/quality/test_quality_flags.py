"""Quality flags: each threshold flags what it says, unreadable images only as unreadable."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelscope.eda import FLAGS, QualityThresholds, flag_counts, quality_flags, unreadable


def frame(**cols) -> pd.DataFrame:
    base = {"image_id": "x", "error": "", "width": 200, "height": 200, "aspect": 1.0, "brightness": 120.0,
            "contrast": 50.0, "sharpness": 300.0, "is_grayscale": False}
    rows = []
    for k, overrides in enumerate(cols.get("rows", [])):
        rows.append({**base, "image_id": f"i{k}", **overrides})
    df = pd.DataFrame(rows)
    df["is_grayscale"] = df["is_grayscale"].astype("boolean")
    return df


ROWS = [
    {},                                                  # 0 clean
    {"brightness": 10.0},                                # 1 dark
    {"brightness": 250.0},                               # 2 bright
    {"contrast": 3.0},                                   # 3 low contrast
    {"sharpness": 5.0},                                  # 4 blurry
    {"width": 30, "aspect": 30 / 200},                   # 5 tiny + odd aspect
    {"width": 600, "aspect": 3.0},                       # 6 odd aspect
    {"is_grayscale": True},                              # 7 grayscale
    {"error": "not an image", "width": None, "height": None, "aspect": np.nan, "brightness": np.nan,
     "contrast": np.nan, "sharpness": np.nan, "is_grayscale": pd.NA},  # 8 unreadable
]


def test_each_flag_with_default_thresholds():
    f = quality_flags(frame(rows=ROWS)).set_index("image_id")
    expect = {"i1": {"dark"}, "i2": {"bright"}, "i3": {"low_contrast"}, "i4": {"blurry"},
              "i5": {"tiny", "odd_aspect"}, "i6": {"odd_aspect"}, "i7": {"grayscale"}, "i8": {"unreadable"}}
    for i in f.index:
        got = {name for name in FLAGS if f.at[i, name]}
        assert got == expect.get(i, set()), i
    assert not f.at["i0", "any"] and f.at["i5", "n_flags"] == 2 and f.at["i5", "reasons"] == "tiny, odd_aspect"
    assert f.at["i8", "error"] == "not an image"


def test_thresholds_move_the_flags():
    rows = [{"brightness": b} for b in (30.0, 45.0, 60.0)]
    assert quality_flags(frame(rows=rows))["dark"].tolist() == [True, False, False]
    assert quality_flags(frame(rows=rows), thresholds=QualityThresholds(dark=50))["dark"].tolist() == [True, True, False]
    assert not quality_flags(frame(rows=rows), thresholds=QualityThresholds(dark=0))["dark"].any()
    rows = [{"width": 100, "aspect": 2.5}]
    assert quality_flags(frame(rows=rows))["odd_aspect"].all()
    assert not quality_flags(frame(rows=rows), thresholds=QualityThresholds(odd_aspect=3))["odd_aspect"].any()


def test_invalid_thresholds_and_missing_columns_are_clear():
    with pytest.raises(ValueError, match="odd_aspect"):
        QualityThresholds(odd_aspect=0.5)
    with pytest.raises(ValueError, match="0..255"):
        QualityThresholds(dark=300)
    with pytest.raises(ValueError, match="sharpness"):
        quality_flags(frame(rows=ROWS).drop(columns="sharpness"))


def test_counts_and_unreadable_list():
    feats = frame(rows=ROWS)
    c = flag_counts(quality_flags(feats)).set_index("flag")
    assert list(c.index) == list(FLAGS) and c.at["odd_aspect", "images"] == 2 and c.at["unreadable", "images"] == 1
    bad = unreadable(feats)
    assert bad.to_dict("records") == [{"image_id": "i8", "error": "not an image"}]
