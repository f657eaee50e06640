"""Image transforms (torchvision.transforms.v2) for training and evaluation.

Augmentations suit the task and never change the label: horizontal flips (faces and masks are
left-right symmetric), small rotations, mild colour jitter. No random crops that could cut a
mask worn on the chin away. The order is the cheap one: resize down first, then rotate
(rotating the full-size photo and resizing afterwards costs several times more), all on the
PIL image before it becomes a tensor.
"""
from __future__ import annotations

import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SquareCenterCrop(torch.nn.Module):
    """Centre crop to a square of the shorter side (a no-op on a square image)."""

    def forward(self, img):  # noqa: ANN001 - PIL image or tensor
        h, w = F.get_size(img)
        s = min(h, w)
        return img if h == w else F.center_crop(img, [s, s])


def build_transforms(img_size: int, *, train: bool, crop: str = "none", rotation: float = 10.0,
                     jitter: float = 0.2, mean: tuple[float, ...] = IMAGENET_MEAN,
                     std: tuple[float, ...] = IMAGENET_STD) -> v2.Compose:
    """PIL image -> normalised float tensor of shape (3, img_size, img_size).

    Parameters
    ----------
    img_size : int
        Output side in pixels.
    train : bool
        Add augmentations (flip, rotation up to ``rotation`` degrees, colour jitter).
    crop : str
        ``none`` resizes the whole image to a square (aspect not kept, nothing cut away);
        ``center`` and ``faces`` first take the centred square (``LabelsDataset`` does the
        face crop itself, since it knows each image's box; this step is then a no-op).
    """
    if crop not in ("none", "center", "faces", "face-boxes"):
        raise ValueError(f"crop must be none, center, faces or face-boxes, not {crop!r}")
    # Geometry and colour run on the PIL image after it is resized down: PIL's rotate and
    # enhance are several times cheaper than the same ops on small tensors. No hue shift (skin tones).
    steps: list[torch.nn.Module] = []
    if crop != "none":
        steps.append(SquareCenterCrop())
    steps.append(v2.Resize((img_size, img_size), antialias=True))
    if train:
        steps += [
            v2.RandomHorizontalFlip(),
            v2.RandomRotation(rotation),
            v2.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter),
        ]
    steps += [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    return v2.Compose(steps)
