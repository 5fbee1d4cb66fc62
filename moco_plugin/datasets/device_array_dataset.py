"""A decoded-in-memory dataset whose loader hands out indices only; the pixels live on the device."""
from __future__ import annotations

from typing import Union

import numpy as np
from torch.utils.data import Dataset

from moco_plugin.datasets.base_dataset import BaseImageDataset
from moco_plugin.registry import DATASETS


@DATASETS.register_module()
class DeviceArrayDataset(Dataset):
    """Wrap an ``in_memory=True`` dataset so that its items are the image indices.

    The batched augmentation of
    :class:`~moco_plugin.models.data_preprocessors.BatchMoCoAugment` needs
    nothing from the loader but the stored pixels. With this wrapper they are
    uploaded to the training device once
    (:class:`~moco_plugin.engine.hooks.DeviceDataHook` hands :meth:`image_array`
    to :class:`~moco_plugin.models.data_preprocessors.DeviceDataPreprocessor`),
    and each item is ``dict(inputs=index, data_samples=dict(gt_label, idx))`` of
    plain Python integers: a batch of 512 costs the loader well under a
    millisecond and the host-to-device copy is 4 kB of indices. The sampler,
    its seed and its resume position are untouched; the index is the one the
    wrapped dataset's ``__getitem__`` would receive, so the gathered batch equals
    the one the ``UnaugmentedViews`` pipeline would have collated.

    Args:
        dataset: Config (or instance) of a :class:`BaseImageDataset` with
            ``in_memory=True``; its pipeline is not used.
    """

    def __init__(self, dataset: Union[dict, BaseImageDataset]) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        if getattr(self.dataset, '_array', None) is None:
            raise ValueError(f'DeviceArrayDataset needs the images decoded in memory: set '
                             f'in_memory=True in train_dataloader.dataset.dataset '
                             f'({type(self.dataset).__name__} was built without it)')
        self.metainfo = getattr(self.dataset, 'metainfo', {})
        self.classes = getattr(self.dataset, 'classes', [])

    def image_array(self) -> np.ndarray:
        """The uint8 ``(N, H, W, 3)`` pixels, item ``i`` at row ``i`` (memory-mapped or in RAM)."""
        return self.dataset._array

    def __len__(self) -> int:
        return len(self.dataset)

    def get_label(self, index: int) -> int:
        return self.dataset.get_label(index)

    def get_image(self, index: int):
        return self.dataset.get_image(index)

    def __getitem__(self, index: int) -> dict:
        index = int(index)
        return dict(inputs=index, data_samples=dict(gt_label=self.dataset.get_label(index),
                                                    idx=index))

    def __repr__(self) -> str:
        return f'{type(self).__name__}({type(self.dataset).__name__}, {len(self)} images)'
