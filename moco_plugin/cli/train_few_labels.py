"""``tools/train_few_labels.py CONFIG CHECKPOINT --labels L [--pseudo-labels P] --recipe R``.

Trains a classifier on the labelled (and pseudo-labelled) images over any checkpoint's
backbone and reports top-1 / top-5 on the untouched test split. Recipes
(``moco_plugin/configs/fewlabel/``): a linear probe on frozen, cached features
(``resnet18_linear-fewlabel_cifar10``), weighted k-NN (``resnet18_knn-20nn_cifar10``) or
full fine-tuning with a backbone lr multiplier
(``finetune_resnet18_1xb64-coslr-30e-bblr0.1_cifar10``)::

    python tools/train_few_labels.py work_dirs/fewlabel_pretrain/mocov2/config.py \\
        work_dirs/fewlabel_pretrain/mocov2/epoch_2.pth --labels labels.json \\
        --recipe resnet18_linear-fewlabel_cifar10 --out work_dirs/fewlabel/mocov2_250.json

The trained classifier is kept as its own checkpoint (``<out stem>_classifier.pth``).
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import add_model_arguments, log, model_of
from moco_plugin.experiments.few_label_training import FewLabelTraining
from moco_plugin.experiments.few_label_training import train_few_labels as run_training

PROG = 'train_few_labels.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument('--labels', required=True, help='label file')
    parser.add_argument('--pseudo-labels', nargs='+', default=[], help='pseudo-label files')
    parser.add_argument('--allow-same-teacher', action='store_true', help='warn instead of '
                        'refusing pseudo-labels whose teacher has this backbone\'s weights')
    parser.add_argument('--recipe', default='resnet18_linear-fewlabel_cifar10',
                        help='few-label config (path or name in configs/fewlabel/)')
    parser.add_argument('--epochs', type=int, help="override the recipe's epochs")
    parser.add_argument('--val-fraction', type=float, metavar='F',
                        help='evaluate on a stratified, seeded share F of the labels (held out '
                             'of training) instead of a test set')
    parser.add_argument('--out', required=True, help='result JSON')
    args = parser.parse_args(argv)
    if args.val_fraction is not None:
        if not 0 < args.val_fraction < 1:
            parser.error(f'--val-fraction must be in (0, 1), got {args.val_fraction}')
        if args.test_data:
            parser.error('--val-fraction and --test-data both name what is evaluated; pass one')
    return args


def train_few_labels(args: argparse.Namespace) -> Dict[str, Any]:
    request = FewLabelTraining(model_of(args), args.labels, args.out, recipe=args.recipe,
                               pseudo_labels=list(args.pseudo_labels),
                               allow_same_teacher=args.allow_same_teacher, epochs=args.epochs,
                               val_fraction=args.val_fraction)
    return run_training(request, lambda m: log(PROG, m))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: train_few_labels(args))


if __name__ == '__main__':
    main()
