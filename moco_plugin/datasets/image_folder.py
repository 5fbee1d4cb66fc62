"""Generic ImageNet-style folder dataset."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

from moco_plugin.datasets.base_dataset import BaseImageDataset
from moco_plugin.datasets.image_io import (IMG_EXTENSIONS, load_rgb, scan_image_folder,
                                          split_classes)
from moco_plugin.registry import DATASETS


@DATASETS.register_module()
class ImageFolderDataset(BaseImageDataset):
    """``data_root/[split/]<class>/<image>`` with any image size, mode and extension case.

    Grayscale, palette, RGBA and CMYK images are converted to RGB; extensions
    match case-insensitively (``.JPG``, ``.Png``). Images placed directly in the
    folder (no class folders) get label -1, for unlabelled pretraining data.

    Args:
        data_root: Dataset folder.
        split: Optional sub-folder (``'train'``, ``'val'``...).
        extensions: Accepted extensions.
        classes: The class list, one for every split (labels index it). Default: the
            class folders of ``data_root/train`` when it exists (so ``val`` gets the
            same indices even when a class folder exists in one split only), else
            those of the split itself.
        **kwargs: See :class:`BaseImageDataset`.
    """

    def __init__(self, data_root: str, split: Optional[str] = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 classes: Optional[Sequence[str]] = None, **kwargs) -> None:
        self.data_root = data_root
        self.split = split
        self.folder = os.path.join(data_root, split) if split else data_root
        if not os.path.isdir(self.folder):
            raise FileNotFoundError(
                f'dataset folder not found: {self.folder}; pass --data-root (or set '
                'MOCO_DATA_ROOT) to the folder that holds it')
        if classes is None:
            classes = split_classes(data_root, split)
        self.classes, self.samples = scan_image_folder(self.folder, extensions, classes)
        self.labels = np.array([label for _, label in self.samples], dtype=np.int64)
        super().__init__(**kwargs)
        self._finish_init()

    def _num_source_items(self) -> int:
        return len(self.samples)

    def _load_source(self, index: int) -> Image.Image:
        return load_rgb(self.samples[index][0])

    def item_files(self) -> List[str]:
        return [self.samples[int(i)][0] for i in self.indices]

    def _cache_key(self) -> str:
        # The files themselves enter through content_fingerprint (size, mtime of each).
        return f'{os.path.abspath(self.folder)}|{len(self.samples)}'
