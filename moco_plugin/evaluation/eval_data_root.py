"""``--eval-data ROOT``: a dataset root in any layout the package reads, as (train, test) configs.

The layout is detected from the files, so one option takes torchvision's CIFAR-10,
CIFAR-100 and STL-10 downloads as well as image folders with split sub-folders.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from moco_plugin.datasets.cifar10 import CIFAR10_CLASSES, find_python_batches
from moco_plugin.datasets.cifar100 import find_cifar100
from moco_plugin.datasets.image_io import class_folders
from moco_plugin.datasets.stl10 import find_stl10
from moco_plugin.evaluation.eval_datasets import eval_dataset_cfg

LAYOUTS = ('cifar-10-batches-py/ (or data_batch_1..5 and test_batch), cifar-100-python/ (train, '
           'test, meta), stl10_binary/ (train_X.bin, train_y.bin, test_X.bin, test_y.bin), or '
           'split folders train/ and val/ or test/, each of class folders')
# The labelled splits of the fixed-format datasets: bank / probe training set, test set.
FIXED_SPLITS = {'CIFAR10': ('train', 'test'), 'CIFAR100': ('train', 'test'),
                'STL10': ('train', 'test')}
TEST_SPLIT_NAMES = ('val', 'test')


def _sub_folders(root: str) -> str:
    return ', '.join(class_folders(root)) or 'none'


def detect_layout(root: str, train_split: Optional[str] = None,
                  test_split: Optional[str] = None) -> str:
    """The dataset type that reads ``root``: ``CIFAR10``, ``CIFAR100``, ``STL10`` or
    ``ImageFolderDataset`` (split folders; CIFAR-10's class names and splits read as ``CIFAR10``).

    Raises:
        FileNotFoundError: ``root`` is not a folder, or holds none of :data:`LAYOUTS`.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f'--eval-data {root} is not a folder; pass a dataset root: {LAYOUTS}')
    if find_python_batches(root):
        return 'CIFAR10'
    if find_cifar100(root):
        return 'CIFAR100'
    if find_stl10(root):
        return 'STL10'
    train_folder = os.path.join(root, train_split or 'train')
    if not os.path.isdir(train_folder):
        raise FileNotFoundError(
            f'--eval-data {root}: no dataset layout found (sub-folders: {_sub_folders(root)}); '
            f'expected {LAYOUTS}; name other split folders with --train-split/--test-split')
    cifar_folders = (class_folders(train_folder) == sorted(CIFAR10_CLASSES)
                     and os.path.isdir(os.path.join(root, 'test')))
    if cifar_folders and {train_split or 'train', test_split or 'test'} == {'train', 'test'}:
        return 'CIFAR10'
    return 'ImageFolderDataset'


def _fixed_splits(root: str, kind: str, train_split: Optional[str],
                  test_split: Optional[str]) -> Tuple[str, str]:
    splits = (train_split or FIXED_SPLITS[kind][0], test_split or FIXED_SPLITS[kind][1])
    if kind == 'STL10' and 'unlabeled' in splits:
        raise ValueError("--eval-data: STL-10's unlabeled split has no labels; k-NN and the "
                         'linear probe need labelled splits: --train-split train --test-split test')
    wrong = [s for s in splits if s not in FIXED_SPLITS[kind]]
    if wrong:
        raise ValueError(f'--eval-data {root} is {kind}, whose labelled splits are '
                         f'{" and ".join(FIXED_SPLITS[kind])}, not {", ".join(map(repr, wrong))}; '
                         'drop --train-split/--test-split or pass one of those')
    return splits


def _folder_splits(root: str, train_split: Optional[str],
                   test_split: Optional[str]) -> Tuple[str, str]:
    train_split = train_split or 'train'
    if test_split is None:
        test_split = next((s for s in TEST_SPLIT_NAMES if os.path.isdir(os.path.join(root, s))),
                          None)
        if test_split is None:
            raise FileNotFoundError(
                f'--eval-data {root} has {train_split}/ but no val/ or test/ next to it '
                f'(sub-folders: {_sub_folders(root)}); pass --test-split NAME')
    elif not os.path.isdir(os.path.join(root, test_split)):
        raise FileNotFoundError(f'--eval-data {root} has no {test_split}/ split folder '
                                f'(sub-folders: {_sub_folders(root)}); pass --test-split NAME')
    return train_split, test_split


def eval_data_cfgs(root: str, image_size: int, train_split: Optional[str] = None,
                   test_split: Optional[str] = None, subset_train: Optional[int] = None,
                   subset_test: Optional[int] = None, subset_seed: int = 0,
                   cifar100_labels: Optional[str] = None
                   ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The (bank / probe training, test) dataset configs of the dataset root ``root``.

    Args:
        root: A folder in one of :data:`LAYOUTS` (see :func:`detect_layout`).
        image_size: Side of the evaluation crop.
        train_split: Bank / probe training split (default ``train``).
        test_split: Test split (default ``test``; for image folders ``val``, else ``test``).
        subset_train: Class-balanced subset of the training split.
        subset_test: Subset of the test split.
        subset_seed: Seed of the subsets.
        cifar100_labels: ``'fine'`` (default, 100 classes) or ``'coarse'`` (the 20
            superclasses) for a CIFAR-100 root; an error for any other layout.

    Returns:
        Two configs (``split`` names the split) indexing one class list: the format's
        own, or the training split's class folders for image folders.
    """
    kind = detect_layout(root, train_split, test_split)
    classes: Optional[List[str]] = None
    if kind == 'ImageFolderDataset':
        train_split, test_split = _folder_splits(root, train_split, test_split)
        classes = class_folders(os.path.join(root, train_split)) or None
    else:
        train_split, test_split = _fixed_splits(root, kind, train_split, test_split)
    if cifar100_labels and kind != 'CIFAR100':
        raise ValueError(f'--cifar100-labels {cifar100_labels} applies to a CIFAR-100 root; '
                         f'--eval-data {root} is {kind}: drop --cifar100-labels')
    source = dict(type=kind, data_root=root)
    cfgs = tuple(eval_dataset_cfg(source, split, image_size=image_size, subset_size=subset,
                                  subset_seed=subset_seed, in_memory=False)
                 for split, subset in ((train_split, subset_train), (test_split, subset_test)))
    for cfg in cfgs:
        if classes is not None:
            cfg['classes'] = classes
        if cifar100_labels:
            cfg['label_kind'] = cifar100_labels
    return cfgs[0], cfgs[1]
