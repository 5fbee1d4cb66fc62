"""The data options of the few-label tools: ``--data-root``, ``--subset-*``,
``--cfg-options``, ``--pool``, ``--classes``, ``--csv-columns``, ``--test-data``
(what they mean: :mod:`moco_plugin.fewlabel.splits`)."""
from __future__ import annotations

import argparse

from moco_plugin.cli.cfg_options import CfgOptionsAction
from moco_plugin.fewlabel.splits import DataOptions


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group('data')
    group.add_argument('--data-root', help='dataset folder (overrides the config)')
    group.add_argument('--subset-train', type=int, metavar='N',
                       help='use a class-balanced subset of the training split as the pool')
    group.add_argument('--subset-test', type=int, metavar='N', help='subset of the test split')
    group.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={})
    add_pool_arguments(group)


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


def data_options(args) -> DataOptions:
    """The data options of parsed arguments (absent ones: their defaults)."""
    return DataOptions(data_root=getattr(args, 'data_root', None),
                       subset_train=getattr(args, 'subset_train', None),
                       subset_test=getattr(args, 'subset_test', None),
                       cfg_options=getattr(args, 'cfg_options', None) or {},
                       pool=getattr(args, 'pool', None), classes=getattr(args, 'classes', None),
                       csv_columns=getattr(args, 'csv_columns', None) or 'path,label',
                       test_data=getattr(args, 'test_data', None),
                       image_size=getattr(args, 'image_size', None))
