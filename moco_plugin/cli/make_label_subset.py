"""``tools/make_label_subset.py CONFIG --per-class N | --fraction F | --csv FILE --out LABELS``.

Writes a label file (relative paths, indices, labels, the dataset's fingerprint) for the
training split of a config's dataset::

    python tools/make_label_subset.py mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu \\
        --per-class 25 --seed 0 --out work_dirs/labels/cifar10_250.json

``--add SELECTION`` appends the images of a selection file (tools/select_labels.py) to
``--labels``, with their labels revealed from the dataset (the simulated labeller of the
CIFAR-10 study) or read from ``--csv``.
"""
from __future__ import annotations

import argparse
from typing import List, Optional

import numpy as np

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import add_data_arguments, build_split, load_config, log
from moco_plugin.datasets.label_files import make_label_set, read_label_file, write_label_file
from moco_plugin.datasets.label_subset import balanced_label_set

PROG = 'make_label_subset.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help="pretraining config (its dataset's training split)")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument('--per-class', type=int, help='labels per class (1, 4, 25, 100, 400 ...)')
    how.add_argument('--fraction', type=float, help='share of each class (0.01, 0.1 ...)')
    how.add_argument('--csv', help='path,label CSV (paths relative to the dataset root)')
    how.add_argument('--add', metavar='SELECTION', help='selection file to label and append')
    parser.add_argument('--labels', help='with --add: the current label file')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='label file to write (JSON)')
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    if args.add and not args.labels:
        parser.error('--add needs --labels (the label file the selection extends)')
    return args


def make_labels(args: argparse.Namespace):
    cfg = load_config(args)
    dataset, _ = build_split(cfg, args, 'train')
    if args.per_class is not None or args.fraction is not None:
        labels = balanced_label_set(dataset, args.per_class, args.fraction, args.seed)
    elif args.csv:
        labels = read_label_file(args.csv, dataset)
    else:
        current = read_label_file(args.labels, dataset)
        selection = read_label_file(args.add, dataset, current.fingerprint)
        if np.isin(selection.indices, current.indices).any():
            raise ValueError(f'{args.add} names images that {args.labels} already labels; '
                             'select again from the current label file')
        revealed = [dataset.get_label(int(i)) for i in selection.indices]  # the labeller
        if min(revealed, default=0) < 0:
            raise ValueError('the dataset has no labels to reveal; label the selection in a '
                             'path,label CSV and pass it with --csv')
        labels = make_label_set(dataset, np.concatenate([current.indices, selection.indices]),
                                np.concatenate([current.labels, revealed]), current.fingerprint,
                                meta=dict(current.meta, added=args.add))
    write_label_file(labels, args.out)
    counts = np.bincount(labels.labels, minlength=len(labels.classes) or None)
    log(PROG, f'{len(labels)} labels ({counts.min()}..{counts.max()} per class) written to {args.out}')
    return labels


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: make_labels(args))


if __name__ == '__main__':
    main()
