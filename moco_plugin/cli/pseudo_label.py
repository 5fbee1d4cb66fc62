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
import json
import os.path as osp
from typing import List, Optional

import numpy as np
import torch

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import (add_model_arguments, features_of, load_config,
                                             load_model, log, pool_and_labels)
from moco_plugin.datasets.label_files import make_label_set, write_label_file
from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.fewlabel.pseudo_labels import (CRITERIA, check_different_teacher,
                                                precision_coverage, pseudo_label,
                                                pseudo_label_warnings, threshold_for_precision)
from moco_plugin.fewlabel.teacher import (TEACHERS, cross_validated_probs,
                                          teacher_from_classifier, train_teacher)
from moco_plugin.fewlabel.uncertainty import check_threshold
from moco_plugin.utils.atomic_io import atomic_save_png, atomic_write_text

PROG = 'pseudo_label.py'
CURVE_THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 1.0, 0.05)]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_arguments(parser)
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
    args = parser.parse_args(argv)
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
    return args


def make_pseudo_labels(args: argparse.Namespace):
    cfg = load_config(args)
    pool_set, pool_cfg, labels = pool_and_labels(cfg, args, args.labels, args.checkpoint)
    backbone = load_model(cfg, args.checkpoint, args.seed)
    if args.student:
        student = load_model(cfg, args.student, args.seed).weights_sha256
        warning = check_different_teacher(backbone.weights_sha256, student,
                                          args.allow_same_teacher)
        if warning:
            log(PROG, warning)
    pool = features_of(backbone, pool_set, pool_cfg, args, PROG)
    if args.teacher_head:
        if not osp.isfile(args.teacher_head):
            raise FileNotFoundError(f'--teacher-head {args.teacher_head} not found; pass the '
                                    '_classifier.pth that tools/train_few_labels.py wrote')
        saved = torch.load(args.teacher_head, map_location='cpu', weights_only=True)
        teacher = teacher_from_classifier(saved.get('state_dict', {}), saved.get('meta', {}),
                                          len(pool_set.classes), pool.features.shape[1],
                                          args.teacher_head)
    else:
        teacher = train_teacher(args.teacher, FeatureSet(pool.features[labels.indices],
                                                         labels.labels),
                                len(pool_set.classes), seed=args.seed)
    estimate = None
    if args.target_precision is not None:
        held_out = cross_validated_probs(args.teacher, FeatureSet(
            pool.features[labels.indices], labels.labels), len(pool_set.classes), args.folds,
            seed=args.seed)
        estimate = threshold_for_precision(held_out, labels.labels, args.target_precision,
                                           args.criteria)
        log(PROG, f"threshold {estimate['threshold']:.4f}: precision {estimate['precision']:.3f} "
            f'estimated by {args.folds}-fold cross-validation over the {len(labels)} labels')
    probs = teacher.probabilities(pool.features)
    seen = labels.seen()  # labelled and skipped images are never pseudo-labelled
    kept = pseudo_label(probs, estimate['threshold'] if estimate else args.threshold,
                        args.max_per_class, seen, args.criteria, args.count, args.quantile)
    for message in pseudo_label_warnings(probs, kept, args.criteria, seen,
                                         teacher.neighbours_used()):
        log(PROG, message)
    meta = dict(teacher=args.teacher_head or args.teacher, teacher_checkpoint=args.checkpoint,
                teacher_checkpoint_sha256=backbone.checkpoint_sha256,
                teacher_weights_sha256=backbone.weights_sha256, threshold=args.threshold,
                count=args.count, quantile=args.quantile, criteria=list(args.criteria),
                thresholds_applied=kept.thresholds, target_precision=args.target_precision,
                cross_validation=dict(estimate, folds=args.folds) if estimate else None,
                max_per_class=args.max_per_class, labels_file=osp.abspath(args.labels),
                n_labelled=len(labels), precision=getattr(args, 'precision_choice', None))
    truth = pool.labels
    if (truth >= 0).all() and len(kept.indices):
        meta['precision_vs_true_labels'] = float((truth[kept.indices] == kept.labels).mean())
    out = make_label_set(pool_set, kept.indices, kept.labels, labels.fingerprint,
                         kind='pseudo_labels', confidence=kept.confidence, meta=meta)
    write_label_file(out, args.out)
    log(PROG, f'{len(kept.indices)} of {len(pool) - len(seen)} unlabelled images pseudo-labelled '
        f'({kept.thresholds}); precision against the true labels: '
        f"{meta.get('precision_vs_true_labels', float('nan')):.4f}; written to {args.out}")
    if args.curve:
        if not (truth >= 0).all():
            raise ValueError('--curve needs a dataset with true labels (e.g. CIFAR-10)')
        rows = precision_coverage(probs, truth, CURVE_THRESHOLDS, exclude=labels.indices)
        stem = osp.splitext(args.out)[0]
        atomic_write_text(json.dumps(dict(meta=meta, rows=rows), indent=1), f'{stem}_curve.json')
        plot_precision_coverage({args.teacher: rows}, f'{stem}_curve.png',
                                f'pseudo-labels of {osp.basename(args.checkpoint)}')
    return out


def plot_precision_coverage(curves, path: str, title: str) -> None:
    """Precision and coverage (y) against the threshold (x), one colour per teacher."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for n, (name, rows) in enumerate(curves.items()):
        t = [r['threshold'] for r in rows]
        ax.plot(t, [r['precision'] for r in rows], color=f'C{n}', marker='.', label=f'{name} precision')
        ax.plot(t, [r['coverage'] for r in rows], color=f'C{n}', ls='--', label=f'{name} coverage')
    ax.set_xlabel('confidence threshold')
    ax.set_ylabel('share')
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    atomic_save_png(fig, path)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: make_pseudo_labels(args))


if __name__ == '__main__':
    main()
