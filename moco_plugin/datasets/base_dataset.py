"""Common base of the image datasets: pipeline, subsets, uint8 caching."""
from __future__ import annotations

import hashlib
import os
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from moco_plugin.datasets.decoded_cache import (apply_bad_list, check_bad_image_policy,
                                                decode_images, load_cached, report_bad_images,
                                                save_cached)
from moco_plugin.datasets.image_io import load_rgb, resize_center_crop
from moco_plugin.registry import TRANSFORMS
from moco_plugin.utils.cache import cache_dir


def build_pipeline(pipeline: Optional[Sequence[Union[dict, Callable]]]) -> Callable:
    """Chain transform configs (or callables) into one callable."""
    steps = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in (pipeline or [])]

    def apply(sample):
        for step in steps:
            sample = step(sample)
        return sample
    apply.steps = steps  # type: ignore[attr-defined]
    return apply


class BaseImageDataset(Dataset):
    """Images + labels with a transform pipeline; items are MMEngine data dicts.

    Each item is ``dict(inputs=<pipeline output>, data_samples=dict(gt_label, idx))``;
    a multi-view pipeline yields a list of views as ``inputs``.

    Args:
        pipeline: Transform configs applied to the PIL RGB image in order.
        subset_size: Use only this many images, drawn with ``subset_seed``
            (class-balanced where labels exist), for quick runs.
        subset_seed: Seed of the subset draw.
        in_memory: Decode every image once into one uint8 array and cache it
            under :func:`cache_dir`, so epochs never decode JPEGs again. All images
            must share a size, or set ``in_memory_size``.
        in_memory_size: Side of the in-memory images: each is scaled (shorter side)
            and centre-cropped to ``in_memory_size x in_memory_size`` when decoded,
            for folders of mixed sizes (ImageNet-style). Must cover the training
            crop, e.g. 256 for 224 px crops.
        on_bad_image: What an image that cannot be decoded does (``in_memory=True``, where
            every image is decoded before training): ``'error'`` (default) raises
            :class:`~moco_plugin.datasets.image_io.CorruptImageError` naming the file;
            ``'skip'`` leaves it out, logs the file, its reason and the count, and keeps
            the list in :attr:`bad_images` (also on a decoded-array cache hit).
    """

    def __init__(self, pipeline: Optional[Sequence[dict]] = None, subset_size: Optional[int] = None,
                 subset_seed: int = 0, in_memory: bool = False,
                 in_memory_size: Optional[int] = None, on_bad_image: str = 'error') -> None:
        if in_memory_size is not None and (not isinstance(in_memory_size, int)
                                           or in_memory_size <= 0):
            raise ValueError(f'in_memory_size must be a positive integer (pixels), got '
                             f'{in_memory_size!r}')
        check_bad_image_policy(on_bad_image)
        if on_bad_image == 'skip' and not in_memory:
            raise ValueError("on_bad_image='skip' needs in_memory=True: the images are checked "
                             'when they are decoded into memory, before training')
        self.pipeline = build_pipeline(pipeline)
        self.on_bad_image = on_bad_image
        self.bad_images: List[tuple] = []  # (path, reason) of the images left out
        self.subset_size = subset_size
        self.subset_seed = subset_seed
        self.in_memory = in_memory
        self.in_memory_size = in_memory_size
        self._array: Optional[np.ndarray] = None
        self._fingerprint: Optional[str] = None
        self.metainfo = dict(classes=tuple(self.classes))

    # --- to be provided by subclasses ---------------------------------------
    classes: List[str] = []
    labels: np.ndarray

    def _num_source_items(self) -> int:
        raise NotImplementedError

    def _load_source(self, index: int) -> Image.Image:
        raise NotImplementedError

    def _cache_key(self) -> str:
        raise NotImplementedError

    def _source_files(self) -> List[str]:
        """Files whose content the selected items are decoded from (for cache keys): by
        default each item's own file."""
        files = self.item_files()
        if files is None:
            raise NotImplementedError(f'{type(self).__name__} names no files of its items')
        return files

    def item_files(self) -> Optional[List[str]]:
        """The image file of each item (after subsetting), or ``None`` where the items are not
        files of their own (decoded arrays: CIFAR python batches, STL-10 binaries)."""
        return None

    # --- shared logic -------------------------------------------------------
    def _select_subset(self) -> np.ndarray:
        n = self._num_source_items()
        if self.subset_size is None or self.subset_size >= n:
            return np.arange(n)
        if self.subset_size <= 0:
            raise ValueError(f'subset_size must be positive, got {self.subset_size}')
        rng = np.random.default_rng(self.subset_seed)
        order = rng.permutation(n)
        labels = self.labels[order]
        if (labels >= 0).all():  # round-robin over classes keeps the subset balanced
            rank = np.zeros(n, dtype=np.int64)
            for c in np.unique(labels):
                rank[labels == c] = np.arange((labels == c).sum())
            order = order[np.lexsort((labels, rank))]
        return np.sort(order[:self.subset_size])

    def _finish_init(self) -> None:
        self.indices = self._select_subset()
        if self.in_memory:
            self._array = self._decoded_array()

    def content_fingerprint(self) -> str:
        """Hash of what the items are made of: source, classes, subset, and every file's state.

        Each source file enters with its path, size and modification time (``st_mtime_ns``),
        so replacing, rewriting or corrupting one image changes the fingerprint and every
        cache keyed by it (decoded arrays, extracted features) is rebuilt, which also
        decodes, hence finds, a corrupt file. Stat-ing 50,000 files costs well under a
        second; hashing their content would cost a full read.
        """
        if self._fingerprint is None:
            digest = hashlib.sha1()
            digest.update(f'{self._cache_key()}|{list(self.classes)}|{self.in_memory_size}|'.encode())
            digest.update(self.indices.tobytes())
            for path in self._source_files():
                info = os.stat(path)
                digest.update(f'|{path}|{info.st_size}|{info.st_mtime_ns}'.encode())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def _decoded_array(self) -> np.ndarray:
        """The selected images decoded (cached by :meth:`content_fingerprint`); images that
        fail to decode are left out of ``indices`` under ``on_bad_image='skip'``."""
        key = self.content_fingerprint()[:16]
        path = os.path.join(cache_dir(), 'decoded', f'{type(self).__name__}-{key}.npy')
        cached = load_cached(path, len(self.indices))
        if cached is None:
            array, bad = decode_images(self._load_for_memory, self.indices, self.item_files(),
                                       self.on_bad_image)
            save_cached(path, array, bad)
        else:
            array, bad = cached
        drop = apply_bad_list(bad, self.on_bad_image)
        if len(drop):
            report_bad_images(bad, len(self.indices), getattr(self, 'data_root', type(self).__name__))
            self.indices = np.delete(self.indices, drop)
            self.bad_images = [(b['path'], b['reason']) for b in bad]
        return array

    def _load_for_memory(self, index: int) -> Image.Image:
        img = self._load_source(index)
        return img if self.in_memory_size is None else resize_center_crop(img, self.in_memory_size)

    def __len__(self) -> int:
        return len(self.indices)

    def get_image(self, index: int) -> Image.Image:
        """RGB image of item ``index`` (after subsetting)."""
        if self._array is not None:
            return Image.fromarray(np.ascontiguousarray(self._array[index]))
        return self._load_source(int(self.indices[index]))

    def get_label(self, index: int) -> int:
        return int(self.labels[self.indices[index]])

    def __getitem__(self, index: int) -> dict:
        inputs = self.pipeline(self.get_image(index))
        return dict(inputs=inputs,
                    data_samples=dict(gt_label=torch.tensor(self.get_label(index)),
                                      idx=torch.tensor(index)))


class FileListDataset(BaseImageDataset):
    """A :class:`BaseImageDataset` whose items are the image files ``self.files`` (read as
    RGB), keyed in caches by ``self.data_root`` and the number of files; subclasses set
    ``files``, ``labels`` and ``data_root`` before ``super().__init__``."""

    files: List[str]
    data_root: str

    def _num_source_items(self) -> int:
        return len(self.files)

    def _load_source(self, index: int) -> Image.Image:
        return load_rgb(self.files[index])

    def item_files(self) -> List[str]:
        return [self.files[int(i)] for i in self.indices]

    def _cache_key(self) -> str:
        # The files themselves enter through content_fingerprint (size, mtime of each).
        return f'{os.path.abspath(self.data_root)}|{len(self.files)}'
