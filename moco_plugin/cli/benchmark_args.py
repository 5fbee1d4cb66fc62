"""The argument groups of ``tools/benchmark.py``, one function per concern; the data
options are in :mod:`moco_plugin.cli.benchmark_data_args`, the checks in
:mod:`moco_plugin.cli.benchmark_checks`."""
from __future__ import annotations

import argparse

from moco_plugin.cli.cfg_options import CfgOptionsAction
from moco_plugin.cli.runtime_options import add_runtime_arguments


def add_what_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', nargs='?', help='config of the model and the dataset')
    parser.add_argument('checkpoint', nargs='?',
                        help="checkpoint: a .pth path, zoo://NAME, or 'random'/'none' for the "
                             'untrained (random-init) backbone')
    what = parser.add_argument_group('what to run (default: --knn --linear)')
    what.add_argument('--knn', action='store_true', help='weighted k-NN classification')
    what.add_argument('--linear', action='store_true', help='linear probe on the frozen backbone')
    what.add_argument('--retrieval', type=int, default=0, metavar='N',
                      help='also write a PNG of N test images and their 8 nearest training images')
    what.add_argument('--few-shot', nargs='+', default=[], metavar='NxK',
                      help='N-way K-shot episodes on the test split, e.g. 5x1 5x5')
    what.add_argument('--feature-map', type=int, default=0, metavar='N',
                      help='also write a t-SNE map (PNG) of N test images coloured by class')


def add_few_shot_arguments(parser: argparse.ArgumentParser) -> None:
    shot = parser.add_argument_group('few-shot')
    shot.add_argument('--few-shot-episodes', type=int, default=600)
    shot.add_argument('--few-shot-queries', type=int, default=15, help='query images per class')
    shot.add_argument('--few-shot-classifier', nargs='+', default=['prototype', 'logistic'],
                      choices=['prototype', 'logistic'])
    shot.add_argument('--few-shot-full', action='store_true',
                      help='instead of episodes: every class, K training images each, scored on '
                           'the whole test split (3 seeds)')


def add_knn_arguments(parser: argparse.ArgumentParser) -> None:
    knn = parser.add_argument_group('k-NN')
    knn.add_argument('--k', type=int, nargs='+', default=[200], help='neighbour counts, evaluated in one pass')
    knn.add_argument('--temperature', type=float, default=0.1, help='vote weight exp(sim / T)')


def add_linear_arguments(parser: argparse.ArgumentParser) -> None:
    lin = parser.add_argument_group('linear probe (MoCo protocol defaults)')
    lin.add_argument('--linear-epochs', type=int, default=100)
    lin.add_argument('--linear-lr', type=float, nargs='+', default=[30.0], metavar='LR',
                     help='base lr; several values: each is trained on the training split minus '
                          'a held-out part (--linear-val-fraction), the best on that part is '
                          'retrained on the whole training split and tested')
    lin.add_argument('--linear-val-fraction', type=float, default=0.1,
                     help='share of each training class held out to choose among several '
                          '--linear-lr values (the test split is never used to choose)')
    lin.add_argument('--holdout-group', metavar='csv|REGEX',
                     help="hold out whole groups when choosing the lr: 'csv' takes the group "
                          'column of --csv-columns, a regex takes the first group it captures '
                          "in each file name (e.g. '^(\\d+)_' for GTSRB's track prefix), so "
                          'near-duplicate frames stay on one side')
    lin.add_argument('--linear-momentum', type=float, default=0.9)
    lin.add_argument('--linear-wd', type=float, default=0.0, help='weight decay')
    lin.add_argument('--linear-batch-size', type=int, default=256)
    lin.add_argument('--linear-schedule', choices=['cos', 'step'], default='cos',
                     help='per-epoch cosine, or x0.1 at 60%% and 80%% of the epochs')
    lin.add_argument('--linear-aug', action='store_true',
                     help='train-time augmentation (RandomResizedCrop + flip): every epoch runs '
                          'the backbone on new crops (slow); default: cached features')
    lin.add_argument('--linear-normalize', action='store_true',
                     help='L2-normalise features first (not MoCo protocol; use a smaller lr)')


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group('runtime')
    run.add_argument('--batch-size', type=int, default=256, help='feature-extraction batch size')
    run.add_argument('--num-workers', type=int, default=2, help='data-loader workers')
    run.add_argument('--no-cache', action='store_true', help='recompute features, do not store them')
    run.add_argument('--seed', type=int, default=0,
                     help='seed of the random-init weights and of the linear probe')
    run.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                     help='override config keys, e.g. model.backbone.cifar_stem=False')
    add_runtime_arguments(parser, amp_help='same as --precision amp: mixed-precision extraction '
                                           'asked for explicitly (bf16 on a CPU, as auto on CUDA)')
