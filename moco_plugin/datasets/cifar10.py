"""CIFAR-10 in torchvision's python-batch format or as image folders."""
from __future__ import annotations

import os
import pickle
from typing import List, Optional

import numpy as np
from PIL import Image

from moco_plugin.datasets.base_dataset import BaseImageDataset
from moco_plugin.datasets.image_io import load_rgb, scan_image_folder, split_classes
from moco_plugin.registry import DATASETS

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                   'ship', 'truck')


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle CIFAR batches (dicts of bytes, lists and numpy arrays) and nothing else."""

    ALLOWED = {('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
               ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
               ('numpy.core.numeric', '_frombuffer'), ('numpy._core.numeric', '_frombuffer'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'CIFAR batch file refers to {module}.{name}; refusing to load it')


def _read_batch(path: str) -> dict:
    with open(path, 'rb') as handle:
        return _NumpyOnlyUnpickler(handle, encoding='latin1').load()


def find_python_batches(data_root: str) -> Optional[str]:
    """The folder holding ``data_batch_1..5``/``test_batch``, if any."""
    for folder in (os.path.join(data_root, 'cifar-10-batches-py'), data_root):
        if os.path.isfile(os.path.join(folder, 'data_batch_1')):
            return folder
    return None


@DATASETS.register_module()
class CIFAR10(BaseImageDataset):
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
            self._batch_names = names
            parts = [_read_batch(os.path.join(batches, n)) for n in names]
            self.images = np.concatenate([p['data'] for p in parts]).reshape(-1, 3, 32, 32)
            self.images = np.ascontiguousarray(self.images.transpose(0, 2, 3, 1))
            self.labels = np.concatenate([np.asarray(p['labels']) for p in parts]).astype(np.int64)
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

    def _num_source_items(self) -> int:
        return len(self.labels)

    def _load_source(self, index: int) -> Image.Image:
        if self._paths is None:
            return Image.fromarray(self.images[index])
        return load_rgb(self._paths[index])

    def _cache_key(self) -> str:
        return f'{os.path.abspath(self.source)}|{self.split}|{len(self.labels)}'

    def _source_files(self) -> List[str]:
        if self._paths is None:
            return [os.path.join(self.source, n) for n in self._batch_names]
        return [self._paths[int(i)] for i in self.indices]

    def _decoded_array(self) -> np.ndarray:
        if self._paths is None:  # the python batches are already decoded
            return self.images[self.indices]
        return super()._decoded_array()
