"""``tools/select_labels.py CONFIG CHECKPOINT --labels L --budget B --strategy S --out SEL``.

Chooses the next B images of the unlabelled pool to label (never one already labelled).
The checkpoint's features are the embeddings; uncertainty strategies score the pool with
a teacher trained on the labelled images::

    python tools/select_labels.py work_dirs/fewlabel_pretrain/mocov2/config.py \\
        work_dirs/fewlabel_pretrain/mocov2/epoch_2.pth --labels labels.json \\
        --budget 100 --strategy typiclust --out selection.json

Writes the selection file (picks with scores, strategy, budget, the embedding checkpoint's
sha256, the dataset fingerprint) and a PNG contact sheet of the picks next to it.
Label the picks, then ``tools/make_label_subset.py --add selection.json --labels labels.json``.
"""
from __future__ import annotations

import argparse
import os.path as osp
import time
from typing import Dict, List, Optional

import numpy as np

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import (add_model_arguments, contact_sheet, features_of,
                                             load_config, load_model, log, pool_and_labels)
from moco_plugin.datasets.label_files import make_label_set, write_label_file
from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.fewlabel.strategies import (STRATEGIES, check_strategy, knn_entropy_warning,
                                             select)
from moco_plugin.fewlabel.teacher import TEACHERS, train_teacher
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS
from moco_plugin.fewlabel.uncertainty import SCORES, check_threshold


PROG = 'select_labels.py'


def parse_thresholds(items: List[str]) -> Dict[str, float]:
    out = {}
    for item in items:
        kind, sep, value = item.partition('=')
        if not sep or kind not in SCORES:
            raise ValueError(f'--threshold {item!r}: write SCORE=VALUE with SCORE one of '
                             f'{", ".join(SCORES)}')
        try:
            out[kind] = check_threshold(kind, float(value))
        except ValueError as err:
            raise ValueError(f'--threshold {item!r}: {err}') from None
    return out


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument('--labels', required=True, help='current label file')
    parser.add_argument('--budget', type=int, required=True, help='images to pick')
    parser.add_argument('--strategy', required=True, help=f'one of: {", ".join(STRATEGIES)}')
    parser.add_argument('--threshold', nargs='+', default=[], metavar='SCORE=VALUE',
                        help='threshold strategies, scores in [0, 1], e.g. entropy=0.6')
    parser.add_argument('--no-fill', action='store_true',
                        help='threshold strategies: return fewer than --budget when fewer pass')
    parser.add_argument('--teacher', choices=TEACHERS, default='linear',
                        help='classifier whose probabilities the uncertainty strategies score')
    parser.add_argument('--max-clusters', type=int, default=MAX_CLUSTERS,
                        help='typiclust: at most this many of its L + B clusters (the authors\' '
                             'cap; raise it for budgets above it)')
    parser.add_argument('--out', required=True, help='selection file (JSON)')
    parser.add_argument('--sheet', help='contact sheet PNG (default: --out with .png)')
    args = parser.parse_args(argv)
    if args.max_clusters < 1:
        parser.error(f'--max-clusters must be >= 1, got {args.max_clusters}')
    return args


def select_labels(args: argparse.Namespace):
    check_strategy(args.strategy)
    thresholds = parse_thresholds(args.threshold) or None
    cfg = load_config(args)
    pool_set, pool_cfg, labels = pool_and_labels(cfg, args, args.labels, args.checkpoint)
    backbone = load_model(cfg, args.checkpoint, args.seed)
    pool = features_of(backbone, pool_set, pool_cfg, args, PROG)
    num_classes = len(pool_set.classes)
    tick = time.perf_counter()
    probs = None
    if 'probs' in STRATEGIES[args.strategy]:
        teacher = train_teacher(args.teacher, FeatureSet(pool.features[labels.indices],
                                                         labels.labels), num_classes,
                                seed=args.seed)
        probs = teacher.probabilities(pool.features)
        warning = knn_entropy_warning(thresholds, args.strategy, teacher.neighbours_used(),
                                      num_classes)
        if warning:
            log(PROG, warning)
    # skipped images (rejected by the labeller) are never picked again
    picked = select(args.strategy, args.budget, len(pool), labels.seen(), probs=probs,
                    embeddings=pool.features, seed=args.seed, thresholds=thresholds,
                    fill=not args.no_fill, max_clusters=args.max_clusters)
    seconds = time.perf_counter() - tick
    if picked.info.get('n_passed') == 0:
        log(PROG, f"WARNING: no unlabelled image passes the thresholds {picked.info['thresholds']}"
            + ('; the picks are the most uncertain instead' if not args.no_fill else ''))
    meta = dict(strategy=args.strategy, budget=args.budget, labels_file=osp.abspath(args.labels),
                precision=getattr(args, 'precision_choice', None),
                n_labelled=len(labels), embedding_checkpoint=args.checkpoint,
                embedding_checkpoint_sha256=backbone.checkpoint_sha256,
                embedding_weights_sha256=backbone.weights_sha256, teacher=args.teacher
                if probs is not None else None, seed=args.seed, select_s=round(seconds, 3),
                **{k: v for k, v in picked.info.items()})
    # A selection names images to label: their label field is -1 until someone labels them.
    selection = make_label_set(pool_set, picked.indices, np.full(len(picked.indices), -1),
                               labels.fingerprint, kind='selection', scores=picked.scores,
                               meta=meta)
    write_label_file(selection, args.out)
    sheet = args.sheet or osp.splitext(args.out)[0] + '.png'
    contact_sheet(pool_set, picked.indices, sheet, [f'{s:.2f}' for s in picked.scores])
    log(PROG, f'{len(picked.indices)} images picked by {args.strategy} in {seconds:.1f} s; '
        f'written to {args.out}, contact sheet {sheet}')
    return selection


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: select_labels(args))


if __name__ == '__main__':
    main()
