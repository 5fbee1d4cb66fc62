"""``tools/pseudo_label.py CONFIG CHECKPOINT --labels L --threshold T --out PSEUDO``.

A teacher (linear probe or k-NN on the checkpoint's features, trained on the labelled
images) predicts every unlabelled training image; those with confidence (max probability)
``>= T`` are kept, at most ``--max-per-class`` per class. The file records for each image
the label, the confidence and the teacher checkpoint's sha256; train a student on it with
``tools/train_few_labels.py ... --pseudo-labels PSEUDO``::

    python tools/pseudo_label.py work_dirs/fewlabel_pretrain/simclr/config.py \\
        work_dirs/fewlabel_pretrain/simclr/epoch_2.pth --labels labels.json \\
        --threshold 0.9 --max-per-class 500 --out pseudo.json

Instead of ``--threshold`` (one value for every ``--criteria``: confidence, margin,
entropy certainty): ``--count N`` / ``--quantile Q`` (per criterion the threshold that N
images, the top share Q, pass: the same number for each criterion) or ``--target-precision
P`` (the lowest threshold whose precision, estimated by ``--folds``-fold cross-validation over
the labelled images, is >= P). ``--student CKPT`` refuses a teacher with the student's
backbone weights (``--allow-same-teacher``: a loud warning instead); ``train_few_labels.py``
checks the same from the file.

Where the dataset has true labels (CIFAR-10), ``--curve`` writes the precision and coverage
of the pseudo-labels for thresholds 0.05..0.95 (JSON and PNG).
"""
from __future__ import annotations

import argparse
from typing import List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import add_model_arguments, log, model_of
from moco_plugin.experiments.pseudo_labelling import (CURVE_THRESHOLDS,  # noqa: F401
                                                      PseudoLabelRequest)
from moco_plugin.experiments.pseudo_labelling import make_pseudo_labels as run_pseudo_labelling
from moco_plugin.fewlabel.pseudo_labels import CRITERIA
from moco_plugin.fewlabel.reports import plot_precision_coverage  # noqa: F401  (its home)
from moco_plugin.fewlabel.teacher import TEACHERS
from moco_plugin.fewlabel.uncertainty import check_threshold

PROG = 'pseudo_label.py'


def _add_teacher_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--labels', required=True, help='label file of the labelled images')
    parser.add_argument('--teacher', choices=TEACHERS, default='linear')
    parser.add_argument('--teacher-head', metavar='CLASSIFIER.pth',
                        help='use this trained linear classifier (tools/train_few_labels.py) '
                             'on the checkpoint\'s features instead of training a teacher')
    cut = parser.add_argument_group('thresholds (exactly one)').add_mutually_exclusive_group(
        required=True)
    cut.add_argument('--threshold', type=float, help='certainty in [0, 1] for every criterion')
    cut.add_argument('--count', type=int, help='per criterion, the threshold N images pass')
    cut.add_argument('--quantile', type=float, help='per criterion, the top share Q in (0, 1]')
    cut.add_argument('--target-precision', type=float, metavar='P',
                     help='the lowest threshold whose precision, estimated by cross-validation '
                          'over the labelled images, is >= P')


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--criteria', nargs='+', choices=CRITERIA, default=['confidence'],
                        help='certainty criteria an image must all pass')
    parser.add_argument('--folds', type=int, default=5, help='--target-precision: CV folds')
    parser.add_argument('--student', metavar='CHECKPOINT', help='refuse if this checkpoint (same '
                        'config) has the teacher\'s backbone weights')
    parser.add_argument('--allow-same-teacher', action='store_true',
                        help='warn instead of refusing when teacher and student weights match')
    parser.add_argument('--max-per-class', type=int, help='keep at most N per class')
    parser.add_argument('--out', required=True, help='pseudo-label file (JSON)')
    parser.add_argument('--curve', action='store_true',
                        help='precision/coverage against the threshold (needs true labels)')


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    try:
        for name in ('threshold', 'target_precision'):
            if getattr(args, name) is not None:
                check_threshold('--' + name.replace('_', '-'), getattr(args, name))
    except ValueError as err:
        parser.error(str(err))
    if args.target_precision is not None and args.teacher_head:
        parser.error('--target-precision cross-validates a teacher trained here; drop '
                     '--teacher-head or give --threshold/--count/--quantile')
    if args.max_per_class is not None and args.max_per_class < 1:
        parser.error(f'--max-per-class must be >= 1, got {args.max_per_class}')
    if args.count is not None and args.count < 1:
        parser.error(f'--count must be >= 1, got {args.count}')
    if args.quantile is not None and not 0 < args.quantile <= 1:
        parser.error(f'--quantile must be in (0, 1], got {args.quantile}')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_arguments(parser)
    _add_teacher_arguments(parser)
    _add_output_arguments(parser)
    args = parser.parse_args(argv)
    _check(parser, args)
    return args


def make_pseudo_labels(args: argparse.Namespace):
    request = PseudoLabelRequest(
        model_of(args), args.labels, args.out, teacher=args.teacher,
        teacher_head=args.teacher_head, threshold=args.threshold, count=args.count,
        quantile=args.quantile, target_precision=args.target_precision,
        criteria=list(args.criteria), folds=args.folds, student=args.student,
        allow_same_teacher=args.allow_same_teacher, max_per_class=args.max_per_class,
        curve=args.curve)
    return run_pseudo_labelling(request, lambda m: log(PROG, m))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: make_pseudo_labels(args))


if __name__ == '__main__':
    main()
