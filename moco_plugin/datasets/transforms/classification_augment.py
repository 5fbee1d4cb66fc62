"""Train-time augmentation of supervised training and of the augmented linear probe."""
from __future__ import annotations

from typing import Tuple

from torchvision import transforms as T

from moco_plugin.datasets.transforms.moco_augment import ToUint8Tensor
from moco_plugin.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomResizedCropFlip(T.Compose):
    """RandomResizedCrop + horizontal flip, ending in a uint8 tensor.

    The augmentation of the MoCo linear-classification protocol
    (``main_lincls.py``) and of the usual supervised baseline; no colour
    distortion.

    Args:
        size: Output side length.
        scale: RandomResizedCrop scale range.
    """

    def __init__(self, size: int = 224, scale: Tuple[float, float] = (0.08, 1.0)) -> None:
        super().__init__([T.RandomResizedCrop(size, scale=tuple(scale)), T.RandomHorizontalFlip(),
                          ToUint8Tensor()])
