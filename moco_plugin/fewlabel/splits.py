"""The data of the few-label tools: the pool, its class list, the label files, the test set.

The pool is the config's training split (``data_root`` moves it) or ``pool``: a folder of
images (flat or nested, class folders optional) or a table of image paths. ``classes``
(``FILE|a,b,c``) names the classes of a pool without class folders; a label file carries
them, so later steps adopt them from there. The test set is the config's test split or
``test_data``; it never shares an image with the pool (compared by resolved path). The
crop side (``image_size``) is the caller's: the checkpoint's training resolution
(:func:`moco_plugin.zoo.backbone_loading.evaluation_image_size`).
"""
from __future__ import annotations

import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from mmengine.config import Config

from moco_plugin.datasets.label_csv import read_class_list
from moco_plugin.datasets.label_files import TABLE_SUFFIXES, read_label_file
from moco_plugin.evaluation.eval_datasets import (build_eval_dataset, check_disjoint,
                                                  dataset_type_name, default_splits,
                                                  eval_dataset_cfg, external_dataset_cfg,
                                                  pool_dataset_cfg, pretraining_dataset_cfg)
from moco_plugin.utils.config_files import find_config
from moco_plugin.utils.tables import parse_columns

CLASS_LIST_TYPES = ('ImageFolderDataset', 'CsvImageDataset')


@dataclass
class DataOptions:
    """Where the pool and the test set come from (``--data-root``, ``--subset-*``,
    ``--cfg-options``, ``--pool``, ``--classes``, ``--csv-columns``, ``--test-data``)."""

    data_root: Optional[str] = None
    subset_train: Optional[int] = None
    subset_test: Optional[int] = None
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    pool: Optional[str] = None
    classes: Optional[str] = None
    csv_columns: Optional[str] = 'path,label'
    test_data: Optional[str] = None
    image_size: Optional[int] = None  # overrides the checkpoint's resolution

    @property
    def columns(self) -> tuple:
        return parse_columns(self.csv_columns or 'path,label', least=2, most=2)


def load_fewlabel_config(config: str, data: DataOptions) -> Config:
    """The pretraining config (a file or a packaged name) with ``cfg_options`` applied."""
    cfg = Config.fromfile(str(find_config(config)))
    cfg.merge_from_dict(data.cfg_options)
    if data.data_root and not osp.isdir(data.data_root):
        raise FileNotFoundError(f'--data-root {data.data_root} is not a folder; pass the dataset folder')
    return cfg


def build_split(cfg: Config, data: DataOptions, which: str, image_size: int, pool=None,
                classes=None):
    """The (deterministic-transform) pool (``which='train'``) or test set, and its config.

    The test set (``which='test'``) is checked against ``pool`` (built first) and takes its
    class list.
    """
    source = pretraining_dataset_cfg(cfg)
    train_split, test_split = default_splits(source)
    classes = classes if classes is not None else (read_class_list(data.classes)
                                                   if data.classes else None)
    if which == 'train':
        if data.pool:
            dataset_cfg = pool_dataset_cfg(data.pool, image_size, data.subset_train, 0,
                                           data.columns, classes)
        else:
            dataset_cfg = eval_dataset_cfg(source, train_split, image_size=image_size,
                                           subset_size=data.subset_train, data_root=data.data_root)
            if classes is not None:
                if dataset_type_name(source) not in CLASS_LIST_TYPES:
                    raise ValueError(f'--classes applies to a folder or CSV pool; the config\'s '
                                     f'{dataset_type_name(source)} names its own classes')
                dataset_cfg['classes'] = classes
        return build_eval_dataset(dataset_cfg), dataset_cfg
    pool_classes = list(getattr(pool, 'classes', []) or []) or None
    if data.test_data:
        dataset_cfg = external_dataset_cfg(data.test_data, image_size, data.subset_test, 0,
                                           data.columns, classes=pool_classes)
        dataset_cfg['split'] = data.test_data
        name = f'--test-data {data.test_data}'
    elif data.pool:
        raise ValueError('--pool names the unlabelled images only; name the labelled test set '
                         'with --test-data CSV|FOLDER, or hold out labels with --val-fraction F')
    else:
        dataset_cfg = eval_dataset_cfg(source, test_split, image_size=image_size,
                                       subset_size=data.subset_test, data_root=data.data_root)
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


def pool_and_labels(cfg: Config, data: DataOptions, label_file: str, image_size: int):
    """``(pool, pool config, labels)``: a pool without class folders adopts the classes the
    label file records (``--classes`` is needed once, when the first label file is made)."""
    pool, pool_cfg = build_split(cfg, data, 'train', image_size)
    if not getattr(pool, 'classes', None):
        recorded = label_file_classes(label_file)
        if recorded:
            pool, pool_cfg = build_split(cfg, data, 'train', image_size, classes=recorded)
    return pool, pool_cfg, read_label_file(label_file, pool, columns=data.columns)
