"""STL-10 in its binary format (``stl10_binary/``, as torchvision downloads it)."""
from __future__ import annotations

import os
from typing import List, Optional

import numpy as np

from moco_plugin.datasets.array_dataset import ArrayImageDataset
from moco_plugin.registry import DATASETS

STL10_CLASSES = ('airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship',
                 'truck')
STL10_SPLITS = ('train', 'test', 'unlabeled')
IMAGE_SHAPE = (3, 96, 96)
IMAGE_BYTES = int(np.prod(IMAGE_SHAPE))


def find_stl10(data_root: str) -> Optional[str]:
    """``data_root/stl10_binary`` or ``data_root`` itself, whichever holds ``train_X.bin``."""
    for folder in (os.path.join(data_root, 'stl10_binary'), data_root):
        if os.path.isfile(os.path.join(folder, 'train_X.bin')):
            return folder
    return None


def _image_count(path: str) -> int:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'STL-10 file missing: {path}; download stl10_binary again')
    size = os.path.getsize(path)
    if size == 0 or size % IMAGE_BYTES:
        raise ValueError(f'{path} is truncated: {size} bytes is not a whole number of 3x96x96 '
                         f'images ({IMAGE_BYTES} bytes each); download stl10_binary again')
    return size // IMAGE_BYTES


def _read_labels(path: str, images_path: str, count: int, num_classes: int) -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'STL-10 file missing: {path}; download stl10_binary again')
    labels = np.fromfile(path, dtype=np.uint8).astype(np.int64) - 1  # stored as 1..10
    if len(labels) != count:
        raise ValueError(f'{path} is truncated: {len(labels)} labels for the {count} images of '
                         f'{images_path}; download stl10_binary again')
    if count and not 0 <= labels.min() <= labels.max() < num_classes:
        raise ValueError(f'{path}: labels span {labels.min() + 1}..{labels.max() + 1}, STL-10 '
                         f'stores 1..{num_classes}; download stl10_binary again')
    return labels


def _class_names(folder: str) -> List[str]:
    path = os.path.join(folder, 'class_names.txt')
    if not os.path.isfile(path):
        return list(STL10_CLASSES)
    with open(path, encoding='utf-8') as handle:
        return [line.strip() for line in handle if line.strip()]


@DATASETS.register_module()
class STL10(ArrayImageDataset):
    """STL-10's binaries: ``data_root/stl10_binary/{train,test,unlabeled}_X.bin`` (+ ``_y.bin``).

    Images are uint8 ``3x96x96`` stored column-major; the ``_X.bin`` file is
    memory-mapped, so a split costs no memory until its images are read. Labels
    (1..10 on disk) become 0..9; class names come from ``class_names.txt``.

    Args:
        data_root: Folder holding ``stl10_binary/`` (or its files).
        split: ``'train'`` (5,000 images), ``'test'`` (8,000) or ``'unlabeled'``
            (100,000, label -1: for pretraining; evaluation refuses it).
        **kwargs: See :class:`BaseImageDataset`.
    """

    def __init__(self, data_root: str, split: str = 'train', **kwargs) -> None:
        if split not in STL10_SPLITS:
            raise ValueError(f"STL10 split must be 'train', 'test' or 'unlabeled', got {split!r} "
                             '(e.g. --test-split test)')
        folder = find_stl10(data_root)
        if folder is None:
            raise FileNotFoundError(
                f'STL-10 not found under {data_root!r}: expected stl10_binary/ with train_X.bin, '
                'train_y.bin, test_X.bin, test_y.bin (torchvision format); pass the folder that '
                'holds it, or download it with torchvision.datasets.STL10(ROOT, download=True)')
        self.data_root = data_root
        self.split = split
        self.source = folder
        self.classes = _class_names(folder)
        images_path = os.path.join(folder, f'{split}_X.bin')
        count = _image_count(images_path)
        self.array_files = [images_path]
        if split == 'unlabeled':
            self.labels = np.full(count, -1, dtype=np.int64)
        else:
            labels_path = os.path.join(folder, f'{split}_y.bin')
            self.labels = _read_labels(labels_path, images_path, count, len(self.classes))
            self.array_files.append(labels_path)
        raw = np.memmap(images_path, dtype=np.uint8, mode='r', shape=(count, *IMAGE_SHAPE))
        self.images = raw.transpose(0, 3, 2, 1)  # column-major CHW -> HWC, still mapped
        super().__init__(**kwargs)
        self._finish_init()
