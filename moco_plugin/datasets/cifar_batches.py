"""CIFAR's python pickles (torchvision's format), read with an unpickler that runs no code."""
from __future__ import annotations

import os
import pickle
from typing import List, Optional, Sequence, Tuple

import numpy as np


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


def read_batch(path: str) -> dict:
    """One pickled CIFAR file (a batch or ``meta``) as a dict with ``str`` keys."""
    with open(path, 'rb') as handle:
        content = _NumpyOnlyUnpickler(handle, encoding='latin1').load()
    if not isinstance(content, dict):
        raise ValueError(f'{path} holds a {type(content).__name__}, not the dict of a CIFAR batch; '
                         'download the dataset again')
    return content


def find_batch_folder(data_root: str, subfolder: str, marker: str) -> Optional[str]:
    """``data_root/subfolder`` or ``data_root`` itself, whichever holds the file ``marker``."""
    for folder in (os.path.join(data_root, subfolder), data_root):
        if os.path.isfile(os.path.join(folder, marker)):
            return folder
    return None


def read_batches(folder: str, names: Sequence[str], label_key: str
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """The images (``(N, 32, 32, 3)`` uint8, HWC) and labels of the batch files ``names``.

    Args:
        folder: Folder of the batch files.
        names: Batch file names, concatenated in this order.
        label_key: The labels' entry: ``'labels'`` (CIFAR-10), ``'fine_labels'`` or
            ``'coarse_labels'`` (CIFAR-100).
    """
    data: List[np.ndarray] = []
    labels: List[np.ndarray] = []
    for name in names:
        path = os.path.join(folder, name)
        part = read_batch(path)
        missing = [key for key in ('data', label_key) if key not in part]
        if missing:
            raise ValueError(f'{path} has no {" or ".join(missing)} entry (it has '
                             f'{", ".join(map(str, part)) or "none"}); is it a batch of this dataset?')
        images = np.asarray(part['data'], dtype=np.uint8)
        if images.ndim != 2 or images.shape[1] != 3 * 32 * 32 or len(images) != len(part[label_key]):
            raise ValueError(f'{path}: data of shape {images.shape} with {len(part[label_key])} '
                             'labels; a CIFAR batch has N x 3072 bytes and N labels: download the '
                             'dataset again')
        data.append(images)
        labels.append(np.asarray(part[label_key], dtype=np.int64))
    images = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), np.concatenate(labels)
