"""Evaluation datasets derived from a pretraining config's dataset."""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Optional, Tuple

import moco_plugin.datasets  # noqa: F401  (registers the dataset types it builds)
from moco_plugin.registry import DATASETS
from moco_plugin.utils.config_files import pretraining_dataset_cfg, training_image_size  # noqa: F401

# Which splits serve as k-NN bank / linear-probe training set and as test set.
EVAL_SPLITS = {'CIFAR10': ('train', 'test'), 'ImageFolderDataset': ('train', 'val')}
# Native image side: CIFAR is evaluated at 32 px as it was pretrained.
DEFAULT_IMAGE_SIZE = {'CIFAR10': 32}


def dataset_type_name(dataset_cfg: Dict[str, Any]) -> str:
    kind = dataset_cfg.get('type')
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))
    return name.split('.')[-1]


def default_splits(dataset_cfg: Dict[str, Any]) -> Tuple[str, str]:
    """(bank/train split, test split) for the dataset type."""
    return EVAL_SPLITS.get(dataset_type_name(dataset_cfg), ('train', 'val'))


def default_image_size(dataset_cfg: Dict[str, Any]) -> int:
    return DEFAULT_IMAGE_SIZE.get(dataset_type_name(dataset_cfg), 224)


def eval_dataset_cfg(dataset_cfg: Dict[str, Any], split: str, image_size: Optional[int] = None,
                     subset_size: Optional[int] = None, subset_seed: int = 0,
                     data_root: Optional[str] = None, train_augment: bool = False,
                     in_memory: Optional[bool] = None) -> Dict[str, Any]:
    """A labelled, single-view dataset config for evaluation.

    Args:
        dataset_cfg: The pretraining dataset config (type and data root are kept).
        split: Split to read.
        image_size: Side of the evaluation crop (default: 32 for CIFAR-10, 224 otherwise).
        subset_size: Class-balanced subset for quick runs.
        subset_seed: Seed of the subset.
        data_root: Overrides the config's data root.
        train_augment: ``RandomResizedCropFlip`` (linear probe with augmentation)
            instead of the deterministic ``ResizeCenterCrop``.
        in_memory: Decode once into a cached array (default: the config's value).
    """
    size = image_size or default_image_size(dataset_cfg)
    pipeline = ([dict(type='RandomResizedCropFlip', size=size)] if train_augment
                else [dict(type='ResizeCenterCrop', size=size)])
    out = dict(type=dataset_cfg['type'], data_root=data_root or dataset_cfg.get('data_root'),
               split=split, pipeline=pipeline, subset_size=subset_size, subset_seed=subset_seed)
    keep_in_memory = dataset_cfg.get('in_memory', False) if in_memory is None else in_memory
    if keep_in_memory:
        out['in_memory'] = True
    return out


def build_eval_dataset(cfg_dict: Dict[str, Any]):
    """Build a dataset config with the moco_plugin registry (imports register the datasets)."""
    return DATASETS.build(cfg_dict)


def check_same_classes(bank_set, query_set) -> None:
    """Raise when two evaluation datasets index different class lists.

    k-NN and the linear probe compare label indices; if the bank says 1 = cat and
    the queries 1 = dog, accuracy is wrong without any other sign.
    """
    bank_classes = list(getattr(bank_set, 'classes', []) or [])
    query_classes = list(getattr(query_set, 'classes', []) or [])
    if bank_classes and query_classes and bank_classes != query_classes:
        only_bank = [c for c in bank_classes if c not in query_classes]
        only_query = [c for c in query_classes if c not in bank_classes]
        detail = (f'only in the bank/training set: {", ".join(only_bank) or "-"}; only in the '
                  f'test set: {", ".join(only_query) or "-"}' if only_bank or only_query
                  else 'same names in a different order')
        raise ValueError(f'the bank/training and test datasets have different class lists '
                         f'({detail}); labels would not match: give both the same classes=[...]')


def build_eval_datasets(bank_cfg: Dict[str, Any], query_cfg: Dict[str, Any]):
    """Build the bank/training and test datasets, checking they share one class list."""
    bank_set, query_set = build_eval_dataset(bank_cfg), build_eval_dataset(query_cfg)
    check_same_classes(bank_set, query_set)
    return bank_set, query_set


def external_dataset_cfg(spec: str, image_size: int, subset_size: Optional[int] = None,
                         subset_seed: int = 0, columns: Tuple[str, ...] = ('path', 'label'),
                         image_root: Optional[str] = None,
                         classes: Optional[list] = None) -> Dict[str, Any]:
    """A labelled evaluation dataset that the training config does not name.

    ``spec`` is a folder of class folders (``ImageFolderDataset``) or a ``.csv``/``.tsv``
    table of ``path,label`` rows (``CsvImageDataset``; ``columns`` names the path, label
    and optional group columns). ``classes`` is the training split's list, for the test split.
    """
    common = dict(pipeline=[dict(type='ResizeCenterCrop', size=image_size)],
                  subset_size=subset_size, subset_seed=subset_seed, classes=classes)
    if spec.lower().endswith(('.csv', '.tsv')):
        path_column, label_column, *group = columns
        return dict(type='CsvImageDataset', data_root=spec, image_root=image_root,
                    path_column=path_column, label_column=label_column,
                    group_column=group[0] if group else None, **common)
    return dict(type='ImageFolderDataset', data_root=spec, split=None, **common)


def pool_dataset_cfg(spec: str, image_size: int, subset_size: Optional[int] = None,
                     subset_seed: int = 0, columns: Tuple[str, ...] = ('path', 'label'),
                     classes: Optional[list] = None) -> Dict[str, Any]:
    """The unlabelled pool of the few-label tools: a folder (flat, or of class folders,
    nested) or a ``.csv``/``.tsv`` table whose path column lists the images (a label
    column, if the table has one, is not read: labels come from the label files)."""
    common = dict(pipeline=[dict(type='ResizeCenterCrop', size=image_size)],
                  subset_size=subset_size, subset_seed=subset_seed, classes=classes)
    if spec.lower().endswith(('.csv', '.tsv', '.txt')):
        return dict(type='CsvImageDataset', data_root=spec, path_column=columns[0],
                    label_column=None, split='pool', **common)
    if not os.path.isdir(spec):
        raise FileNotFoundError(f'--pool {spec} is neither a folder nor a .csv/.tsv table of '
                                'image paths; pass the folder of unlabelled images')
    return dict(type='ImageFolderDataset', data_root=spec, split=None, **common)


def resolved_files(dataset) -> Optional[set]:
    files = dataset.item_files() if hasattr(dataset, 'item_files') else None
    return None if files is None else {os.path.realpath(f) for f in files}


def check_disjoint(pool_set, test_set, test_name: str) -> None:
    """Refuse a test set that shares images (by resolved path) with the pool.

    The pool is what labels are chosen from and models are trained on; accuracy measured
    on its images is not a test accuracy. Datasets without files (CIFAR python batches)
    are compared by split name.
    """
    pool_files, test_files = resolved_files(pool_set), resolved_files(test_set)
    if pool_files is None or test_files is None:
        same = (type(pool_set) is type(test_set)
                and getattr(pool_set, 'split', 1) == getattr(test_set, 'split', 2))
        shared = len(test_set) if same else 0
        example = f'split {getattr(test_set, "split", "?")}'
    else:
        common = pool_files & test_files
        shared, example = len(common), (min(common) if common else '')
    if shared:
        raise ValueError(f'{shared} of the {len(test_set)} images of the test set ({test_name}) '
                         f'are in the pool (e.g. {example}); the pool can never be the test set: '
                         'name a separate labelled CSV or folder with --test-data, or hold out '
                         'part of the labels with --val-fraction F')


def image_groups(dataset, group: str) -> list:
    """The group id of every item of ``dataset``: the CSV's group column (``group='csv'``) or
    the first capture group of a regex (else its whole match) in each file name."""
    if group == 'csv':
        groups = getattr(dataset, 'groups', None)
        if groups is None:
            raise ValueError("--holdout-group csv needs a CSV dataset with a group column "
                             '(--csv-columns PATH,LABEL,GROUP)')
        return [groups[int(i)] for i in dataset.indices]
    pattern = re.compile(group)
    names = [os.path.basename(p) for p in dataset._source_files()]
    matches = [pattern.search(n) for n in names]
    missing = [n for n, m in zip(names, matches) if m is None]
    if missing:
        raise ValueError(f'--holdout-group {group!r} does not match {len(missing)} file name(s), '
                         f'e.g. {missing[0]}')
    return [m.group(1) if m.groups() else m.group(0) for m in matches]


def check_labelled(dataset, spec: str) -> None:
    """Refuse, before any feature is extracted, a dataset whose images have no labels."""
    labels = getattr(dataset, 'labels', None)
    if labels is not None and len(labels) and (labels < 0).any():
        raise ValueError(f'{spec}: {int((labels < 0).sum())} images have no label (images directly '
                         'in the folder, no class folders); put them in one folder per class, or '
                         'list them with their labels in a CSV and pass that (path,label columns)')
