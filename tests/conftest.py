"""Shared fixtures: tiny generated datasets, the demo dataset, and the real-photo folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MASK_STEMS = ("mask1", "mask2", "mask3", "mask4", "mask5", "incorrect_mask", "normal")


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail under CI=true: nothing is silently skipped in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The shared real photos (faces_mask/, utkface_age_gender/) from $LABELSCOPE_TEST_DATA."""
    value = os.environ.get("LABELSCOPE_TEST_DATA", "")
    require(bool(value) and Path(value).is_dir(), "LABELSCOPE_TEST_DATA is not set to the shared data folder")
    return Path(value)


def write_image(path: Path, color=(120, 80, 60), size=(48, 64), fmt: str | None = None, seed: int = 0) -> Path:
    """A small real image with a little noise (so hashes differ), written for real."""
    rng = np.random.default_rng(seed)
    arr = np.clip(np.array(color, dtype=np.int16) + rng.integers(-20, 20, (size[1], size[0], 3)), 0, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr.astype(np.uint8)).save(path, format=fmt)
    return path


def make_mask_dataset(root: Path, people: list[tuple[str, str, str, int]] | None = None) -> Path:
    """A tiny competition-layout dataset: ``people`` = [(id, gender, race, age), ...]."""
    people = people or [("000001", "female", "Asian", 25), ("000002", "male", "Asian", 45),
                        ("000003", "female", "Asian", 62)]
    root.mkdir(parents=True, exist_ok=True)
    lines = ["id,gender,race,age,path"]
    for n, (pid, gender, race, age) in enumerate(people):
        folder = f"{pid}_{gender}_{race}_{age}"
        lines.append(f"{pid},{gender},{race},{age},{folder}")
        for k, stem in enumerate(MASK_STEMS):
            write_image(root / "images" / folder / f"{stem}.jpg", color=(30 * k, 100, 40 * n % 255), seed=n * 10 + k)
    (root / "train.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def mask_dataset(tmp_path: Path) -> Path:
    return make_mask_dataset(tmp_path / "mask")


@pytest.fixture
def folder_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "folder"
    for c, color in (("cat", (200, 50, 50)), ("dog", (50, 200, 50))):
        for i in range(4):
            write_image(root / c / f"{i}.jpg", color=color, seed=i)
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    write_image(root / ".hidden" / "x.jpg")
    return root


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory) -> Path:
    """A small demo dataset (12 people, 84 images) generated once per session; treat as read-only."""
    from labelscope.demo import make_demo

    out = tmp_path_factory.mktemp("demo") / "demo"
    make_demo(out, people=12, seed=3)
    return out


@pytest.fixture
def demo_copy(demo_dataset: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the demo dataset (without any workspace)."""
    dst = tmp_path / "demo"
    shutil.copytree(demo_dataset, dst, ignore=shutil.ignore_patterns(".labelscope"))
    return dst


def start_app_test(path: str | Path, monkeypatch, dataset: Path, *, reviewer: str = "ana", timeout: int = 120):
    """A fresh AppTest of ``path`` on ``dataset``: env pointed at it, Streamlit caches emptied,
    the reviewer's name already given (as the sidebar would)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LABELSCOPE_DATASET", str(dataset))
    monkeypatch.delenv("LABELSCOPE_WORKSPACE", raising=False)
    monkeypatch.delenv("LABELSCOPE_DB_URL", raising=False)
    monkeypatch.delenv("LABELSCOPE_DB", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(path), default_timeout=timeout)
    at.session_state["reviewer"] = reviewer
    return at
