"""Person check: one gender / age per person from all photos; mask photos as an assignment."""
from __future__ import annotations

import numpy as np

from labelscope.issues import CHECKS, IssueInputs
from labelscope.issues.person import mask_assignment, person_posterior


def test_mask_assignment_finds_a_swap_and_trusts_a_consistent_person():
    given = np.array([0, 0, 0, 0, 0, 1, 2])
    probs = np.tile([0.9, 0.05, 0.05], (7, 1))
    probs[5] = [0.05, 0.15, 0.8]   # incorrect_mask.jpg looks like no mask
    probs[6] = [0.05, 0.8, 0.15]   # normal.jpg looks like a badly worn mask
    best, score = mask_assignment(probs, given)
    assert best.tolist() == [0, 0, 0, 0, 0, 2, 1]
    assert score < 0.05
    consistent = probs.copy()
    consistent[5], consistent[6] = probs[6], probs[5]
    best, score = mask_assignment(consistent, given)
    assert best.tolist() == given.tolist() and score == 1.0


def test_person_posterior_is_not_decided_by_one_odd_photo():
    probs = np.array([[0.8, 0.2]] * 6 + [[0.01, 0.99]])
    post = person_posterior(probs)
    assert post.argmax() == 0 and np.isclose(post.sum(), 1.0)


def test_person_check_names_the_person_and_field(mask_world):
    manifest, emb = mask_world(wrong_gender=(3,), wrong_age=(8,), swapped=(11,))
    out = CHECKS["person"].run(IssueInputs(manifest, embeddings=[emb]))
    flagged = out[out["is_person_issue"]]
    got = set(zip(flagged["person"], flagged["field"]))
    assert {("000003", "gender"), ("000008", "age"), ("000011", "mask")} <= got
    assert len(got) <= 5
    row = flagged[(flagged["person"] == "000003") & (flagged["field"] == "gender")].iloc[0]
    assert row["given"] == "male" and row["suggested"] == "female" and row["person_score"] < 0.2
    swap = flagged[flagged["field"] == "mask"].iloc[0]
    assert "incorrect_mask.jpg=not_wear" in swap["suggested"] and "normal.jpg=incorrect" in swap["suggested"]
    assert set(swap["images"].split(";")) == {"images/000011/incorrect_mask.jpg", "images/000011/normal.jpg"}
    assert (out["image_id"] == "").all() and out["person_score"].between(0, 1).all()
