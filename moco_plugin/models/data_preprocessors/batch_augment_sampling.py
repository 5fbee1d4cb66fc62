"""The random draws of the batched MoCo augmentation: one row of parameters per image.

:class:`~moco_plugin.models.data_preprocessors.BatchMoCoAugment` draws with
:func:`sample_moco_params` and applies the draws with the ops of
:mod:`~moco_plugin.models.data_preprocessors.batch_image_ops`; keeping the two apart lets
the tests compare the distributions with torchvision's and the ops with its per-image ops.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Sequence, Tuple

import torch

_MASK64 = (1 << 64) - 1


def mix_seed(*values: int) -> int:
    """Hash integers into one 63-bit seed (splitmix64 finaliser), so nearby inputs give unrelated streams."""
    state = 0x9E3779B97F4A7C15
    for value in values:
        state = (state ^ (value & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        state = (state ^ (state >> 27)) * 0x94D049BB133111EB & _MASK64
        state ^= state >> 31
    return state >> 1


def sample_resized_crop_boxes(num: int, height: int, width: int, scale: Tuple[float, float],
                              ratio: Tuple[float, float], generator: torch.Generator,
                              device: torch.device, attempts: int = 10) -> torch.Tensor:
    """Draw ``num`` crop boxes exactly as ``torchvision.transforms.RandomResizedCrop.get_params``.

    torchvision tries up to 10 times to draw an area fraction uniformly from
    ``scale`` and an aspect ratio log-uniformly from ``ratio``, keeps the first
    box that fits in the image and places it uniformly; if none fits, it takes
    the largest central crop with the aspect ratio clamped to ``ratio``. Here
    all attempts of all samples are drawn at once and the first fitting one is
    picked with ``argmax``, which gives the same distribution without a loop.

    Args:
        num: Number of boxes.
        height: Image height in pixels.
        width: Image width in pixels.
        scale: Range of the crop area as a fraction of the image area.
        ratio: Range of the aspect ratio (width / height).
        generator: Random number generator on ``device``.
        device: Where the boxes are made.
        attempts: Draws before the central-crop fallback (10 in torchvision).

    Returns:
        ``(num, 4)`` int64 boxes ``(top, left, box_height, box_width)`` in pixels.
    """
    area = height * width
    draws = torch.rand(num, attempts, 2, generator=generator, device=device)
    target_area = area * (scale[0] + (scale[1] - scale[0]) * draws[..., 0])
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(log_lo + (log_hi - log_lo) * draws[..., 1])
    box_w = torch.round(torch.sqrt(target_area * aspect))
    box_h = torch.round(torch.sqrt(target_area / aspect))
    fits = (box_w > 0) & (box_w <= width) & (box_h > 0) & (box_h <= height)
    first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)  # first fitting attempt (0 if none)
    found = fits.any(dim=1)
    box_w = box_w.gather(1, first).squeeze(1)
    box_h = box_h.gather(1, first).squeeze(1)

    # torchvision's fallback: the whole image, cropped to the nearest allowed aspect ratio.
    in_ratio = width / height
    if in_ratio < min(ratio):
        fallback_w, fallback_h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fallback_w, fallback_h = int(round(height * max(ratio))), height
    else:
        fallback_w, fallback_h = width, height
    box_w = torch.where(found, box_w, float(fallback_w))
    box_h = torch.where(found, box_h, float(fallback_h))

    # Uniform integer offsets in [0, size - box] (torch.randint(0, size - box + 1) in torchvision).
    offsets = torch.rand(num, 2, generator=generator, device=device)
    top = torch.floor(offsets[:, 0] * (height - box_h + 1)).clamp_(max=height - box_h)
    left = torch.floor(offsets[:, 1] * (width - box_w + 1)).clamp_(max=width - box_w)
    top = torch.where(found, top, float((height - fallback_h) // 2))
    left = torch.where(found, left, float((width - fallback_w) // 2))
    return torch.stack([top, left, box_h, box_w], dim=1).long()


@dataclass
class MoCoAugmentParams:
    """The random draws of one :class:`BatchMoCoAugment` call, one row per sample.

    Attributes:
        crop_boxes: ``(N, 4)`` int64 ``(top, left, height, width)`` in input pixels.
        flip: ``(N,)`` bool, horizontal flip.
        jitter_applied: ``(N,)`` bool, whether the colour jitter runs.
        jitter_factors: ``(N, 4)`` brightness, contrast, saturation factors and hue shift
            (drawn for every sample; they only matter where ``jitter_applied``).
        jitter_order: ``(N, 4)`` int64 permutation of the op ids
            ``BRIGHTNESS, CONTRAST, SATURATION, HUE`` of :mod:`batch_image_ops`.
        grayscale: ``(N,)`` bool, conversion to grayscale.
        blur_applied: ``(N,)`` bool, Gaussian blur.
        blur_sigma: ``(N,)`` blur standard deviation in output pixels.
    """

    crop_boxes: torch.Tensor
    flip: torch.Tensor
    jitter_applied: torch.Tensor
    jitter_factors: torch.Tensor
    jitter_order: torch.Tensor
    grayscale: torch.Tensor
    blur_applied: torch.Tensor
    blur_sigma: torch.Tensor

    def select(self, index) -> 'MoCoAugmentParams':
        """The parameters of the samples ``index`` (a slice or index tensor)."""
        return MoCoAugmentParams(*(getattr(self, f.name)[index] for f in fields(self)))


def sample_moco_params(num: int, height: int, width: int, scale: Tuple[float, float],
                       ratio: Tuple[float, float], flip_prob: float, jitter_prob: float,
                       jitter_ranges: Sequence[Tuple[float, float]], grayscale_prob: float,
                       blur_prob: float, blur_sigma: Tuple[float, float],
                       generator: torch.Generator, device: torch.device) -> MoCoAugmentParams:
    """Draw the augmentation of ``num`` images of ``height x width``, as torchvision would.

    Args:
        jitter_ranges: ``(low, high)`` of the brightness, contrast and saturation factors
            and of the hue shift.
        blur_prob: Probability of the blur at the output size (0 where it is off).
    """
    def uniform(shape, low, high):
        return low + (high - low) * torch.rand(shape, generator=generator, device=device)

    boxes = sample_resized_crop_boxes(num, height, width, scale, ratio, generator, device)
    flip = torch.rand(num, generator=generator, device=device) < flip_prob
    jitter_applied = torch.rand(num, generator=generator, device=device) < jitter_prob
    factors = torch.stack([uniform(num, low, high) for low, high in jitter_ranges], dim=1)
    # argsort of i.i.d. uniforms is a uniformly random permutation (torch.randperm(4) per sample).
    order = torch.rand(num, 4, generator=generator, device=device).argsort(dim=1)
    grayscale = torch.rand(num, generator=generator, device=device) < grayscale_prob
    blur_applied = torch.rand(num, generator=generator, device=device) < blur_prob
    sigma = uniform(num, *blur_sigma)
    return MoCoAugmentParams(boxes, flip, jitter_applied, factors, order, grayscale,
                             blur_applied, sigma)
