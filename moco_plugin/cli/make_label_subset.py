"""``tools/make_label_subset.py CONFIG --per-class N | --fraction F | --csv TABLE | --add SEL --out LABELS``.

Writes a label file (relative paths, indices, labels, the dataset's fingerprint) for the
training split of a config's dataset::

    python tools/make_label_subset.py mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu \\
        --per-class 25 --seed 0 --out work_dirs/labels/cifar10_250.json

``--add SELECTION`` appends the images of a selection file (tools/select_labels.py) to
``--labels``, with their labels revealed from the dataset (the simulated labeller of the
CIFAR-10 study) or, for a user's own images, read from ``--csv NEW.csv`` (the labeller's
table: ``path,label`` by column name, ``skip`` for a rejected image). ``--csv`` with
``--labels`` merges the table into the current label file. A pool without class folders
(``--pool FOLDER``) needs ``--classes FILE|a,b,c`` once; the label file records them.
"""
from __future__ import annotations

import argparse
from typing import List, Optional

import numpy as np

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import (add_data_arguments, build_split, load_config, log,
                                             pool_and_labels)
from moco_plugin.datasets.label_csv import merge_labels
from moco_plugin.datasets.label_files import make_label_set, read_label_file, write_label_file
from moco_plugin.datasets.label_subset import balanced_label_set

PROG = 'make_label_subset.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help="pretraining config (its dataset's training split)")
    how = parser.add_argument_group('what to write (one of --per-class, --fraction, --csv, --add)')
    how.add_argument('--per-class', type=int, help='labels per class (1, 4, 25, 100, 400 ...)')
    how.add_argument('--fraction', type=float, help='share of each class (0.01, 0.1 ...)')
    how.add_argument('--csv', metavar='TABLE',
                     help='labels table (path,label by column name; paths relative to the '
                          'dataset root or absolute; label = class, index or skip); with '
                          '--labels and/or --add: merged into the current label file')
    how.add_argument('--add', metavar='SELECTION', help='selection file to label and append')
    parser.add_argument('--labels', help='with --add or --csv: the current label file')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', required=True, help='label file to write (JSON)')
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    given = [f for f in ('per_class', 'fraction', 'csv', 'add') if getattr(args, f) is not None]
    if not given:
        parser.error('give one of --per-class, --fraction, --csv TABLE or --add SELECTION')
    if len(given) > 1 and set(given) != {'csv', 'add'}:
        parser.error(' and '.join('--' + g.replace('_', '-') for g in given) + ' do not go '
                     'together; --csv goes with --add (the labels of the selection)')
    if args.add and not args.labels:
        parser.error('--add needs --labels (the label file the selection extends)')
    if args.labels and not (args.add or args.csv):
        parser.error('--labels goes with --add SELECTION or --csv TABLE (the labels to merge)')
    return args


def make_labels(args: argparse.Namespace):
    cfg = load_config(args)
    if args.labels:
        dataset, _, current = pool_and_labels(cfg, args, args.labels)
    else:
        dataset, _ = build_split(cfg, args, 'train')
        current = None
    if args.per_class is not None or args.fraction is not None:
        labels = balanced_label_set(dataset, args.per_class, args.fraction, args.seed)
    elif not args.add:
        new = read_label_file(args.csv, dataset, columns=args.csv_columns.split(','))
        labels = new if current is None else merge_labels(current, new, dataset, args.csv)
    else:
        selection = read_label_file(args.add, dataset, current.fingerprint)
        if np.isin(selection.indices, current.indices).any():
            raise ValueError(f'{args.add} names images that {args.labels} already labels; '
                             'select again from the current label file')
        if args.csv:
            new = read_label_file(args.csv, dataset, columns=args.csv_columns.split(','))
            unlabelled = np.setdiff1d(selection.indices, new.seen())
            if len(unlabelled):
                log(PROG, f'{len(unlabelled)} of the {len(selection)} images of {args.add} have '
                    f'no row in {args.csv}: they stay unlabelled (label them, or write skip)')
        else:
            revealed = np.asarray([dataset.get_label(int(i)) for i in selection.indices])
            if (revealed < 0).any():  # own images: nobody to reveal the labels
                raise ValueError(f'the pool has no labels to reveal for {args.add}; label its '
                                 'images (tools/label_studio.py export, or a path,label table) '
                                 f'and merge them: --add {args.add} --csv NEW.csv --labels '
                                 f'{args.labels}')
            new = make_label_set(dataset, selection.indices, revealed, current.fingerprint,
                                 meta=dict(source=args.add))
        labels = merge_labels(current, new, dataset, args.csv or args.add)
        labels.meta['added'] = args.add
    write_label_file(labels, args.out)
    counts = np.bincount(labels.labels, minlength=len(labels.classes) or 1)
    log(PROG, f'{len(labels)} labels ({counts.min()}..{counts.max()} per class), '
        f'{len(labels.skipped)} skipped, written to {args.out}')
    return labels


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: make_labels(args))


if __name__ == '__main__':
    main()
