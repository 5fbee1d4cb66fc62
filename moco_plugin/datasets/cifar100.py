"""CIFAR-100 in torchvision's python format (``cifar-100-python/``)."""
from __future__ import annotations

import os
from typing import Optional

from moco_plugin.datasets.array_dataset import ArrayImageDataset
from moco_plugin.datasets.cifar_batches import find_batch_folder, read_batch, read_batches
from moco_plugin.registry import DATASETS

LABEL_KINDS = ('fine', 'coarse')


def find_cifar100(data_root: str) -> Optional[str]:
    """The folder holding CIFAR-100's ``train``/``test``/``meta`` pickles, if any."""
    folder = find_batch_folder(data_root, 'cifar-100-python', 'meta')
    return folder if folder and os.path.isfile(os.path.join(folder, 'train')) else None


@DATASETS.register_module()
class CIFAR100(ArrayImageDataset):
    """CIFAR-100 as torchvision downloads it: ``data_root/cifar-100-python/{train,test,meta}``.

    The pickles (also accepted directly in ``data_root``) are read with an unpickler
    that accepts only numpy arrays. Class names come from ``meta``.

    Args:
        data_root: Folder holding ``cifar-100-python/`` (or its three files).
        split: ``'train'`` (50,000 images) or ``'test'`` (10,000).
        label_kind: ``'fine'``: the 100 classes; ``'coarse'``: the 20 superclasses.
        **kwargs: See :class:`BaseImageDataset`.
    """

    def __init__(self, data_root: str, split: str = 'train', label_kind: str = 'fine',
                 **kwargs) -> None:
        if split not in ('train', 'test'):
            raise ValueError(f"CIFAR100 split must be 'train' or 'test', got {split!r}; CIFAR-100 "
                             "has no other split (e.g. --test-split test)")
        if label_kind not in LABEL_KINDS:
            raise ValueError(f"CIFAR100 label_kind must be 'fine' (100 classes) or 'coarse' "
                             f'(20 superclasses), got {label_kind!r}')
        folder = find_cifar100(data_root)
        if folder is None:
            raise FileNotFoundError(
                f'CIFAR-100 not found under {data_root!r}: expected cifar-100-python/ with train, '
                'test and meta (torchvision format); pass the folder that holds it, or download '
                'it with torchvision.datasets.CIFAR100(ROOT, download=True)')
        self.data_root = data_root
        self.split = split
        self.label_kind = label_kind
        self.source = folder
        names_key = f'{label_kind}_label_names'
        meta_path = os.path.join(folder, 'meta')
        meta = read_batch(meta_path)
        if names_key not in meta:
            raise ValueError(f'{meta_path} has no {names_key} entry; is it the meta file of '
                             'CIFAR-100? Download the dataset again')
        self.classes = [str(name) for name in meta[names_key]]
        self.array_files = [os.path.join(folder, split), meta_path]
        self.images, self.labels = read_batches(folder, [split], f'{label_kind}_labels')
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.classes):
            raise ValueError(f'{self.array_files[0]}: {label_kind} labels span {self.labels.min()}..'
                             f'{self.labels.max()} but meta names {len(self.classes)} classes; '
                             'download the dataset again')
        super().__init__(**kwargs)
        self._finish_init()

    def _cache_key(self) -> str:
        return f'{super()._cache_key()}|{self.label_kind}'
