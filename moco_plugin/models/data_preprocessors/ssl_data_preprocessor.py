"""Moves batches to the device and normalises every view there."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from moco_plugin.registry import MODELS

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class SelfSupDataPreprocessor(BaseDataPreprocessor):
    """Normalise each view on the training device.

    Datasets hand over ``uint8`` images (4x less to copy than float), so the
    float conversion and normalisation run here, on the device, once per
    batch. An optional ``batch_augment`` (a registered module taking and
    returning a float batch in [0, 255]) runs before normalisation.

    Args:
        mean: Per-channel mean on the 0-255 scale.
        std: Per-channel standard deviation on the 0-255 scale.
        channels_last: Return views in ``torch.channels_last`` memory format.
        batch_augment: Config of a batched augmentation applied to each view
            in training mode only.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 channels_last: bool = False, batch_augment: Optional[dict] = None) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), False)
        # (x - mean) / std as one fused x * scale + shift (one pass over the batch instead of two)
        self.register_buffer('scale', 1.0 / self.std, False)
        self.register_buffer('shift', -self.mean / self.std, False)
        self.channels_last = channels_last
        self.batch_augment = MODELS.build(batch_augment) if batch_augment else None

    def normalize(self, images: torch.Tensor, training: bool) -> torch.Tensor:
        images = images.to(self.device, non_blocking=True)
        if self.batch_augment is not None and training:
            images = self.batch_augment(images if torch.is_floating_point(images) else images.float())
        # One pass: integer input is converted on the fly, and the output is written directly in
        # the memory format the model wants.
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        dtype = torch.promote_types(images.dtype, torch.float32)
        out = torch.empty(images.shape, dtype=dtype, device=images.device, memory_format=memory_format)
        return torch.addcmul(self.shift, images, self.scale, out=out)

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = [self.normalize(view, training) for view in inputs]
        else:
            inputs = self.normalize(inputs, training)
        samples = data.get('data_samples')
        if samples is not None:
            samples = self.cast_data(samples)
        return dict(inputs=inputs, data_samples=samples)
