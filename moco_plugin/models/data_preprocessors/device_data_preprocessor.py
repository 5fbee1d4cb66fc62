"""Gathers the batch from a dataset held on the training device, then augments and normalises it."""
from __future__ import annotations

from typing import Optional, Union

import numpy as np
import torch

from moco_plugin.models.data_preprocessors.ssl_data_preprocessor import SelfSupDataPreprocessor
from moco_plugin.registry import MODELS


def is_index_batch(inputs) -> bool:
    """A collated batch of :class:`~moco_plugin.datasets.DeviceArrayDataset` items: 1-D integers."""
    return (isinstance(inputs, torch.Tensor) and inputs.ndim == 1
            and not torch.is_floating_point(inputs) and inputs.dtype != torch.bool)


@MODELS.register_module()
class DeviceDataPreprocessor(SelfSupDataPreprocessor):
    """:class:`SelfSupDataPreprocessor` for loaders that hand out image indices only.

    The training set's uint8 pixels are uploaded once (:meth:`attach_images`,
    called by :class:`~moco_plugin.engine.hooks.DeviceDataHook` before
    training; CIFAR-10's 50,000 images are 150 MB) and each batch of indices
    is gathered on the device into ``num_views`` views, which then go through
    the batched augmentation and normalisation exactly as collated uint8 views
    would: for the same sampler order and augmentation seed the output is
    bit-identical to the ``UnaugmentedViews`` loader path
    (``tests/test_models/test_data_preprocessors/test_device_data.py``).

    Batches of images (evaluation loaders, the k-NN monitor) pass through
    unchanged, so the same model evaluates ordinary datasets.

    Args:
        num_views: Views made of each gathered image (2 for MoCo).
        **kwargs: See :class:`SelfSupDataPreprocessor` (``mean``, ``std``,
            ``channels_last``, ``batch_augment``).
    """

    def __init__(self, num_views: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        if num_views < 1:
            raise ValueError(f'DeviceDataPreprocessor num_views must be >= 1, got {num_views}')
        self.num_views = num_views
        # A plain attribute, not a buffer: kept out of checkpoints and out of
        # model.to(memory_format=...), which would re-lay the pixels out.
        self._images: Optional[torch.Tensor] = None

    @property
    def images(self) -> Optional[torch.Tensor]:
        """The attached ``(N, 3, H, W)`` uint8 images on the device (``None`` before attaching)."""
        return self._images

    def attach_images(self, array: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
        """Copy ``(N, H, W, 3)`` uint8 pixels to the device as ``(N, 3, H, W)``; returns them."""
        tensor = torch.as_tensor(np.ascontiguousarray(array)) if isinstance(array, np.ndarray) else array
        if tensor.dtype != torch.uint8 or tensor.ndim != 4 or tensor.shape[-1] != 3:
            raise ValueError(f'attach_images needs uint8 (N, H, W, 3) pixels, got '
                             f'{tuple(tensor.shape)} {tensor.dtype}')
        # moved first, re-laid out on the device (the host only copies the bytes once)
        self._images = tensor.to(self.device).permute(0, 3, 1, 2).contiguous()
        return self._images

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        """The uint8 ``(B, 3, H, W)`` images at ``indices``."""
        if self._images is None:
            raise RuntimeError("DeviceDataPreprocessor got a batch of image indices but holds no "
                               "images: add dict(type='DeviceDataHook') to custom_hooks (it "
                               'uploads the training set before training)')
        if self._images.device != self.device:  # the model moved after attaching
            self._images = self._images.to(self.device)
        return self._images.index_select(0, indices.to(self.device, non_blocking=True))

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if not is_index_batch(inputs):
            return super().forward(data, training)
        batch = self.gather(inputs)
        if self.batch_augment is not None and training:
            batch = batch.float()  # once for all views (the augmentation never writes its input)
        views = [self.normalize(batch, training) for _ in range(self.num_views)]
        samples = data.get('data_samples')
        return dict(inputs=views, data_samples=self.cast_data(samples) if samples is not None else None)
