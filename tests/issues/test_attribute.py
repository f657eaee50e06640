"""Attribute probabilities: training predictions summed into mask / gender / age group."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labelscope.dataset.mask import CLASS_NAMES
from labelscope.issues import find_issues
from labelscope.issues.attribute import candidate_sets, prediction_matrix


def training_predictions(manifest, *, swap_person=None):
    """A predictions table as the training module writes it, confident in each image's given class."""
    rows = []
    for r in manifest.df.itertuples():
        k = int(r.class_index)
        if r.group_id == swap_person and r.mask in ("incorrect", "not_wear"):
            k = k + 6 if r.mask == "incorrect" else k - 6     # the model sees the other mask state
        p = np.full(18, 0.02 / 17)
        p[k] = 0.98
        rows.append({"image_id": r.image_id, "pred_probs": p.astype(np.float32)})
    df = pd.DataFrame(rows)
    df.attrs["classes"] = list(CLASS_NAMES)
    return df


def test_eighteen_classes_are_summed_per_attribute(mask_world):
    manifest, _ = mask_world(4)
    pred = training_predictions(manifest)
    ids, mask = prediction_matrix(pred, manifest, "mask")
    _, gender = prediction_matrix(pred, manifest, "gender")
    _, age = prediction_matrix(pred, manifest, "age_group")
    assert mask.shape == (28, 3) and gender.shape == (28, 2) and age.shape == (28, 3)
    np.testing.assert_allclose(mask.sum(axis=1), 1.0, rtol=1e-5)
    given = manifest.df.set_index("image_id").loc[ids]
    assert (mask.argmax(1) == given["mask"].map({"wear": 0, "incorrect": 1, "not_wear": 2}).to_numpy()).all()
    assert (gender.argmax(1) == given["gender"].map({"male": 0, "female": 1}).to_numpy()).all()


def test_predictions_for_other_classes_are_refused(mask_world):
    manifest, _ = mask_world(2)
    pred = training_predictions(manifest)
    pred.attrs["classes"] = [f"c{k}" for k in range(18)]
    with pytest.raises(ValueError, match="other classes"):
        prediction_matrix(pred, manifest, "mask")


def test_training_predictions_drive_the_person_check(mask_world):
    manifest, emb = mask_world(30, swapped=(7,))
    pred = training_predictions(manifest, swap_person="000007")
    table = find_issues(manifest, pred_probs=pred, embeddings=[emb], checks=["person"])
    assert (table.iloc[0]["person"], table.iloc[0]["field"]) == ("000007", "mask")
    assert table.attrs["sources"]["mask"].startswith("training out-of-fold predictions")


def test_candidate_sets_try_the_preferred_combination_first(mask_world):
    _, emb = mask_world(2)
    other = type(emb)("pixels", emb.image_ids, emb.vectors[:, :3], {})
    sets = candidate_sets([other, emb], "mask")
    assert [[e.name for e in s] for s in sets] == [["effnet"], ["pixels"], ["pixels", "effnet"]]
