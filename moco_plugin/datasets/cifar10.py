"""CIFAR-10 in torchvision's python-batch format or as image folders."""
from __future__ import annotations

import os
from typing import List, Optional

import numpy as np
from PIL import Image

from moco_plugin.datasets.array_dataset import ArrayImageDataset
from moco_plugin.datasets.base_dataset import BaseImageDataset
from moco_plugin.datasets.cifar_batches import find_batch_folder, read_batches
from moco_plugin.datasets.image_io import load_rgb, scan_image_folder, split_classes
from moco_plugin.registry import DATASETS

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                   'ship', 'truck')


def find_python_batches(data_root: str) -> Optional[str]:
    """The folder holding ``data_batch_1..5``/``test_batch``, if any."""
    return find_batch_folder(data_root, 'cifar-10-batches-py', 'data_batch_1')


@DATASETS.register_module()
class CIFAR10(ArrayImageDataset):
    """CIFAR-10 read from either layout it is distributed in.

    * torchvision / official python format: ``data_root/cifar-10-batches-py/``
      (or ``data_root`` itself) with ``data_batch_1..5`` and ``test_batch``;
      these pickles are read with an unpickler that accepts only numpy arrays.
    * image folders: ``data_root/{train,test}/<class>/*.jpg|png``.

    Args:
        data_root: Folder of either layout.
        split: ``'train'`` (50,000 images) or ``'test'`` (10,000).
        **kwargs: See :class:`BaseImageDataset` (``in_memory=True`` is cheap
            here: the whole train split is 150 MB decoded).
    """

    def __init__(self, data_root: str, split: str = 'train', **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"CIFAR10 split must be 'train' or 'test', got {split!r}")
        self.data_root = data_root
        self.split = split
        self.classes = list(CIFAR10_CLASSES)
        self._paths: Optional[List[str]] = None
        batches = find_python_batches(data_root)
        folder = os.path.join(data_root, split)
        if batches is not None:
            names = [f'data_batch_{i}' for i in range(1, 6)] if split == 'train' else ['test_batch']
            self.array_files = [os.path.join(batches, n) for n in names]
            self.images, self.labels = read_batches(batches, names, 'labels')
            self.source = batches
        elif os.path.isdir(folder):
            classes, samples = scan_image_folder(folder, classes=split_classes(data_root, split))
            self.classes = classes
            self._paths = [p for p, _ in samples]
            self.labels = np.array([label for _, label in samples], dtype=np.int64)
            self.source = folder
        else:
            raise FileNotFoundError(
                f'CIFAR-10 not found under {data_root!r}: expected cifar-10-batches-py/ '
                f'(torchvision format) or {split}/<class>/*.jpg; pass --data-root or set '
                'MOCO_DATA_ROOT to the CIFAR-10 folder')
        super().__init__(**kwargs)
        self._finish_init()

    def _load_source(self, index: int) -> Image.Image:
        if self._paths is None:
            return super()._load_source(index)
        return load_rgb(self._paths[index])

    def _source_files(self) -> List[str]:
        # image folders: each item's file; python batches: the batch files (ArrayImageDataset)
        files = self.item_files()
        return super()._source_files() if files is None else files

    def item_files(self) -> Optional[List[str]]:
        return None if self._paths is None else [self._paths[int(i)] for i in self.indices]

    def _decoded_array(self) -> np.ndarray:
        if self._paths is None:  # the python batches are already decoded
            return super()._decoded_array()
        return BaseImageDataset._decoded_array(self)
