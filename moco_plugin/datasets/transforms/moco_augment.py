"""MoCo v1 augmentation and MoCo v2 "aug+" on PIL images, ending in uint8 tensors."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from lightly.transforms import GaussianBlur
from torchvision import transforms as T

from moco_plugin.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ToUint8Tensor:
    """PIL RGB image -> ``uint8`` tensor ``(3, H, W)``; normalisation happens on the device."""

    def __call__(self, image) -> torch.Tensor:
        return T.functional.pil_to_tensor(image)


@TRANSFORMS.register_module()
class MoCoV1Augment(T.Compose):
    """MoCo v1 augmentation (`paper <https://arxiv.org/abs/1911.05722>`_, Sec. 3.3).

    RandomResizedCrop (scale 0.2-1), RandomGrayscale (p=0.2), ColorJitter
    (0.4, 0.4, 0.4, 0.4) always applied, horizontal flip, as in the official
    ``main_moco.py``.

    Args:
        size: Output side length.
        scale: RandomResizedCrop scale range.
    """

    def __init__(self, size: int = 224, scale: Tuple[float, float] = (0.2, 1.0)) -> None:
        super().__init__([
            T.RandomResizedCrop(size, scale=scale),
            T.RandomGrayscale(p=0.2),
            T.ColorJitter(0.4, 0.4, 0.4, 0.4),
            T.RandomHorizontalFlip(),
            ToUint8Tensor(),
        ])


@TRANSFORMS.register_module()
class MoCoV2Augment(T.Compose):
    """MoCo v2 "aug+" (`paper <https://arxiv.org/abs/2003.04297>`_).

    RandomResizedCrop (scale 0.2-1), ColorJitter (0.4, 0.4, 0.4, 0.1) with
    p=0.8, RandomGrayscale (p=0.2), Gaussian blur (sigma 0.1-2) with p=0.5,
    horizontal flip. The blur uses lightly's ``GaussianBlur``.

    Args:
        size: Output side length.
        scale: RandomResizedCrop scale range.
        blur_prob: Probability of the blur. ``None`` means 0.5 for images of
            64 px and more and 0 below: on 32x32 CIFAR images a sigma-2 blur
            erases most content, and the MoCo CIFAR-10 demo omits it.
        jitter_prob: Probability of the colour jitter.
        jitter_strength: Multiplies the four jitter strengths (1 = the paper's
            0.4, 0.4, 0.4, 0.1), as lightly's ``cj_strength``.
        gray_prob: Probability of converting to grayscale.
    """

    def __init__(self, size: int = 224, scale: Tuple[float, float] = (0.2, 1.0),
                 blur_prob: Optional[float] = None, jitter_prob: float = 0.8,
                 jitter_strength: float = 1.0, gray_prob: float = 0.2) -> None:
        if blur_prob is None:
            blur_prob = 0.5 if size >= 64 else 0.0
        s = jitter_strength
        steps = [
            T.RandomResizedCrop(size, scale=scale),
            T.RandomApply([T.ColorJitter(0.4 * s, 0.4 * s, 0.4 * s, 0.1 * s)], p=jitter_prob),
            T.RandomGrayscale(p=gray_prob),
        ]
        if blur_prob > 0:
            steps.append(GaussianBlur(prob=blur_prob, sigmas=(0.1, 2.0)))
        steps += [T.RandomHorizontalFlip(), ToUint8Tensor()]
        super().__init__(steps)
        self.blur_prob = blur_prob


@TRANSFORMS.register_module()
class ResizeCenterCrop(T.Compose):
    """Evaluation transform: resize the short side, center-crop, to uint8 tensor.

    Args:
        size: Crop size.
        resize: Short side before cropping; ``None`` keeps the image when it
            already has side ``size`` (CIFAR) and uses ``size / 0.875`` otherwise.
    """

    def __init__(self, size: int = 224, resize: Optional[int] = None) -> None:
        steps = []
        if resize is not None:
            steps.append(T.Resize(resize))
        else:
            steps.append(_ResizeIfNeeded(size))
        steps += [T.CenterCrop(size), ToUint8Tensor()]
        super().__init__(steps)


class _ResizeIfNeeded:
    def __init__(self, size: int) -> None:
        self.size = size
        self.resize = T.Resize(int(round(size / 0.875)))

    def __call__(self, image):
        return image if min(image.size) == self.size else self.resize(image)
