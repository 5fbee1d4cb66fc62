"""The data, output and comparison argument groups of ``tools/benchmark.py``."""
from __future__ import annotations

import argparse


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group('data')
    data.add_argument('--data-root', help='dataset folder; overrides the config and $MOCO_DATA_ROOT')
    data.add_argument('--subset-train', type=int, metavar='N',
                      help='class-balanced subset of the training split (bank / linear train)')
    data.add_argument('--subset-test', type=int, metavar='N', help='subset of the test split')
    data.add_argument('--subset-seed', type=int, default=0)
    data.add_argument('--train-split', help='bank / linear-train split (default: train)')
    data.add_argument('--test-split', help='test split (default: test for CIFAR-10/100 and STL-10, '
                                           'else val; --eval-data folders: val, else test)')
    data.add_argument('--image-size', type=int,
                      help="evaluation crop (default: the resolution the config trains at, e.g. "
                           "32 for the CIFAR-10 configs, 224 for ImageNet's)")
    data.add_argument('--eval-data', metavar='ROOT',
                      help='evaluate on another dataset, both splits from one root whose layout '
                           'is detected: cifar-10-batches-py/, cifar-100-python/, stl10_binary/ '
                           '(torchvision downloads) or split folders train/ + val/ or test/ of '
                           'class folders (--train-split/--test-split pick others)')
    data.add_argument('--cifar100-labels', choices=('fine', 'coarse'),
                      help="with a CIFAR-100 --eval-data root: its 100 'fine' classes (default) "
                           "or the 20 'coarse' superclasses")
    data.add_argument('--train-data', metavar='PATH',
                      help='evaluate on another dataset: its labelled training images, a folder '
                           'of class folders or a .csv/.tsv of path,label rows (with --test-data)')
    data.add_argument('--test-data', metavar='PATH', help='the test images of --train-data, same forms')
    data.add_argument('--csv-columns', default='path,label', metavar='PATH,LABEL[,GROUP]',
                      help='header names of the path, label (and group) columns of a CSV/TSV')
    data.add_argument('--image-root', help='folder the CSV paths are relative to (default: the '
                                           "CSV's folder)")


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group('output')
    out.add_argument('--out', help='result JSON (default results/<name>.json); with --compare: '
                                   'the markdown table (default results/comparison.md)')
    out.add_argument('--name', help='row name (default: config name, +"-random" for random init)')
    out.add_argument('--markdown', help='markdown file the result row is appended to '
                                        '(default: results.md next to --out)')
    out.add_argument('--quiet', action='store_true', help='no progress bars')


# Options only --compare reads; every other option is a field of BenchmarkSettings.
COMPARISON_OPTIONS = ('compare', 'plot', 'title')


def add_comparison_arguments(parser: argparse.ArgumentParser) -> None:
    cmp_ = parser.add_argument_group('comparison')
    cmp_.add_argument('--compare', nargs='+', metavar='RESULT.json',
                      help='result files to put side by side (no CONFIG/CHECKPOINT then)')
    cmp_.add_argument('--plot', help='comparison PNG (default: the --out path with .png)')
    cmp_.add_argument('--title', default='SSL benchmark', help='comparison title')
