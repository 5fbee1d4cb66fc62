"""Common base of the datasets whose files hold decoded pixels (CIFAR pickles, STL-10 binaries)."""
from __future__ import annotations

import os
from typing import List

import numpy as np
from PIL import Image

from moco_plugin.datasets.base_dataset import BaseImageDataset


class ArrayImageDataset(BaseImageDataset):
    """Images in one ``(N, H, W, 3)`` uint8 array, in memory or memory-mapped.

    A subclass sets ``images``, ``labels``, ``classes``, ``split``, ``source`` (the
    dataset's folder) and ``array_files`` (the files the array is read from, for the
    fingerprint), then calls ``super().__init__(**kwargs)`` and ``self._finish_init()``.
    ``in_memory=True`` costs nothing extra: the pixels are already decoded, so no cache
    file is written unless ``in_memory_size`` asks for resized copies.
    """

    images: np.ndarray
    source: str
    split: str
    array_files: List[str]

    def _num_source_items(self) -> int:
        return len(self.labels)

    def _load_source(self, index: int) -> Image.Image:
        return Image.fromarray(np.ascontiguousarray(self.images[index]))

    def _cache_key(self) -> str:
        return f'{os.path.abspath(self.source)}|{self.split}|{len(self.labels)}'

    def _source_files(self) -> List[str]:
        return list(self.array_files)

    def _decoded_array(self) -> np.ndarray:
        if self.in_memory_size is None:
            return np.ascontiguousarray(self.images[self.indices])
        return super()._decoded_array()
