"""The data of the few-label tools: the pool, its class list, the label files, the test set.

The pool is the config's training split (``--data-root`` moves it) or ``--pool PATH``: a
folder of images (flat or nested, class folders optional) or a table of image paths.
Features are extracted at the checkpoint's training resolution (as
``tools/benchmark_linear.py`` does). ``--classes FILE|a,b,c`` names the classes of a pool
without class folders; a label file carries them, so later steps adopt them from there.
The test set is the config's test split or ``--test-data``; it never shares an image with
the pool (compared by resolved path).
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
from typing import Optional

from mmengine.config import Config

from moco_plugin.experiments.benchmark_setup import evaluation_image_size
from moco_plugin.datasets.label_csv import read_class_list
from moco_plugin.datasets.label_files import TABLE_SUFFIXES, read_label_file
from moco_plugin.evaluation.eval_datasets import (build_eval_dataset, check_disjoint,
                                                  dataset_type_name, default_splits,
                                                  eval_dataset_cfg, external_dataset_cfg,
                                                  pool_dataset_cfg, pretraining_dataset_cfg)
from moco_plugin.utils.tables import parse_columns

CLASS_LIST_TYPES = ('ImageFolderDataset', 'CsvImageDataset')


def add_pool_arguments(group) -> None:
    """``--pool``, ``--classes``, ``--csv-columns``, ``--test-data`` (a data argument group)."""
    group.add_argument('--pool', metavar='FOLDER|TABLE',
                       help='the unlabelled images instead of the config\'s training split: a '
                            'folder (flat or of class folders) or a CSV/TSV listing image paths')
    group.add_argument('--classes', metavar='FILE|a,b,c',
                       help='class names in label order, for a pool without class folders '
                            '(a file with one per line, or a comma list)')
    group.add_argument('--csv-columns', default='path,label', metavar='PATH,LABEL',
                       help='header names of the path and label columns of labels tables, '
                            '--pool and --test-data tables (delimiter , ; or tab detected)')
    group.add_argument('--test-data', metavar='FOLDER|TABLE',
                       help='the labelled test set: a folder of class folders or a path,label '
                            'CSV/TSV (never images of the pool)')


def _columns(args) -> tuple:
    return parse_columns(getattr(args, 'csv_columns', None) or 'path,label', least=2, most=2)


def _classes(args):
    spec = getattr(args, 'classes', None)
    return read_class_list(spec) if spec else None


def build_split(cfg: Config, args: argparse.Namespace, which: str,
                checkpoint: Optional[str] = None, pool=None, classes=None):
    """The (deterministic-transform) pool (``which='train'``) or test set, and its config.

    The crop is the checkpoint's training resolution. The test set (``which='test'``) is
    checked against ``pool`` (built first) and takes its class list.
    """
    source = pretraining_dataset_cfg(cfg)
    size = evaluation_image_size(cfg, checkpoint, getattr(args, 'image_size', None))
    train_split, test_split = default_splits(source)
    classes = classes if classes is not None else _classes(args)
    if which == 'train':
        if getattr(args, 'pool', None):
            dataset_cfg = pool_dataset_cfg(args.pool, size, args.subset_train, 0, _columns(args),
                                           classes)
        else:
            dataset_cfg = eval_dataset_cfg(source, train_split, image_size=size,
                                           subset_size=args.subset_train, data_root=args.data_root)
            if classes is not None:
                if dataset_type_name(source) not in CLASS_LIST_TYPES:
                    raise ValueError(f'--classes applies to a folder or CSV pool; the config\'s '
                                     f'{dataset_type_name(source)} names its own classes')
                dataset_cfg['classes'] = classes
        dataset = build_eval_dataset(dataset_cfg)
        return dataset, dataset_cfg
    pool_classes = list(getattr(pool, 'classes', []) or []) or None
    if getattr(args, 'test_data', None):
        dataset_cfg = external_dataset_cfg(args.test_data, size, args.subset_test, 0,
                                           _columns(args), classes=pool_classes)
        dataset_cfg['split'] = args.test_data
        name = f'--test-data {args.test_data}'
    elif getattr(args, 'pool', None):
        raise ValueError('--pool names the unlabelled images only; name the labelled test set '
                         'with --test-data CSV|FOLDER, or hold out labels with --val-fraction F')
    else:
        dataset_cfg = eval_dataset_cfg(source, test_split, image_size=size,
                                       subset_size=args.subset_test, data_root=args.data_root)
        if pool_classes and dataset_type_name(source) in CLASS_LIST_TYPES:
            dataset_cfg['classes'] = pool_classes
        name = f"the config's {test_split} split"
    dataset = build_eval_dataset(dataset_cfg)
    if pool is not None:
        check_disjoint(pool, dataset, name)
    return dataset, dataset_cfg


def label_file_classes(path: str):
    """The class list a JSON label file records (``None`` for tables and unreadable files)."""
    if path.lower().endswith(TABLE_SUFFIXES) or not osp.isfile(path):
        return None
    try:
        with open(path) as handle:
            return list(json.load(handle).get('classes') or []) or None
    except (ValueError, AttributeError):
        return None


def pool_and_labels(cfg: Config, args: argparse.Namespace, label_file: str,
                    checkpoint: Optional[str] = None):
    """``(pool, pool config, labels)``: a pool without class folders adopts the classes the
    label file records (``--classes`` is needed once, when the first label file is made)."""
    pool, pool_cfg = build_split(cfg, args, 'train', checkpoint)
    if not getattr(pool, 'classes', None):
        recorded = label_file_classes(label_file)
        if recorded:
            pool, pool_cfg = build_split(cfg, args, 'train', checkpoint, classes=recorded)
    return pool, pool_cfg, read_label_file(label_file, pool, columns=_columns(args))
