"""Fixtures of the review tests: the tiny mask dataset's Manifest and a store bound to it."""
import pytest

from labelscope.dataset import load_dataset
from labelscope.review import open_review_store


@pytest.fixture
def mask(mask_dataset):
    return load_dataset(mask_dataset)


@pytest.fixture
def store(tmp_path, mask):
    return open_review_store(tmp_path / "ws", manifest=mask)
