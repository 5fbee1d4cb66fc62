"""Tiny datasets in the exact on-disk formats torchvision downloads, made of real CIFAR-10 images.

The writers lay the bytes out as the formats' own descriptions say (CIFAR: the red, green
and blue planes of each image row-major, one image a row; STL-10: each ``96x96x3`` image
in column-major (Fortran) order), independently of how the readers reshape them.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

Split = Tuple[np.ndarray, np.ndarray]


def real_images(cifar_root: Path, split: str, classes: Sequence[str], per_class: int) -> Split:
    """``per_class`` real CIFAR-10 images of each class, ``(N, 32, 32, 3)`` uint8, and labels 0..C-1."""
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((Path(cifar_root) / split / name).glob('*.jpg'))[:per_class]:
            with Image.open(path) as img:
                images.append(np.asarray(img.convert('RGB')))
            labels.append(label)
    return np.stack(images), np.array(labels, dtype=np.int64)


def upsample(images: np.ndarray, side: int) -> np.ndarray:
    """Images scaled to ``side x side`` (bicubic): STL-10's 96 px from CIFAR's 32."""
    return np.stack([np.asarray(Image.fromarray(img).resize((side, side), Image.BICUBIC))
                     for img in images])


def _cifar_rows(images: np.ndarray) -> np.ndarray:
    """One row per image: its red, then green, then blue plane, each row-major (3,072 bytes)."""
    return np.stack([np.concatenate([img[:, :, c].ravel() for c in range(3)])
                     for img in images]).astype(np.uint8)


def write_cifar10(root: Path, train: Split, test: Split) -> Path:
    """``root/cifar-10-batches-py/``: the training images spread over ``data_batch_1..5``."""
    folder = Path(root) / 'cifar-10-batches-py'
    folder.mkdir(parents=True, exist_ok=True)
    batches = {f'data_batch_{i + 1}': (train[0][rows], train[1][rows])
               for i, rows in enumerate(np.array_split(np.arange(len(train[1])), 5))}
    for name, (images, labels) in {**batches, 'test_batch': test}.items():
        batch = {'data': _cifar_rows(images), 'labels': [int(v) for v in labels]}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return Path(root)


def write_cifar100(root: Path, splits: Dict[str, Tuple[np.ndarray, np.ndarray, np.ndarray]],
                   fine_names: List[str], coarse_names: List[str]) -> Path:
    """``root/cifar-100-python/{train,test,meta}``; ``splits[name] = (images, fine, coarse)``."""
    folder = Path(root) / 'cifar-100-python'
    folder.mkdir(parents=True, exist_ok=True)
    for name, (images, fine, coarse) in splits.items():
        batch = {'filenames': [f'{name}_{i}.png' for i in range(len(images))],
                 'batch_label': f'{name}ing batch 1 of 1', 'fine_labels': [int(v) for v in fine],
                 'coarse_labels': [int(v) for v in coarse], 'data': _cifar_rows(images)}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {'fine_label_names': fine_names, 'coarse_label_names': coarse_names}
    (folder / 'meta').write_bytes(pickle.dumps(meta, protocol=2))
    return Path(root)


def write_stl10(root: Path, splits: Dict[str, Tuple[np.ndarray, Optional[np.ndarray]]],
                class_names: List[str]) -> Path:
    """``root/stl10_binary/{split}_X.bin`` (+ ``_y.bin`` with labels 1..10 where given)."""
    folder = Path(root) / 'stl10_binary'
    folder.mkdir(parents=True, exist_ok=True)
    for name, (images, labels) in splits.items():
        np.concatenate([img.flatten(order='F') for img in images]).tofile(folder / f'{name}_X.bin')
        if labels is not None:
            (np.asarray(labels) + 1).astype(np.uint8).tofile(folder / f'{name}_y.bin')
    (folder / 'class_names.txt').write_text(''.join(f'{n}\n' for n in class_names))
    return Path(root)


def copy_image_folders(cifar_root: Path, root: Path, splits: Dict[str, str],
                       classes: Sequence[str], per_class: int) -> Path:
    """``root/<split>/<class>/*.jpg``: real CIFAR-10 files; ``splits`` maps each new split
    folder to the CIFAR-10 split it is copied from."""
    for split, source in splits.items():
        for name in classes:
            folder = Path(root) / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for path in sorted((Path(cifar_root) / source / name).glob('*.jpg'))[:per_class]:
                (folder / path.name).write_bytes(path.read_bytes())
    return Path(root)
