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
from typing import Dict, List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import add_model_arguments, log, model_of
from moco_plugin.experiments.label_selection import SelectionRequest
from moco_plugin.experiments.label_selection import select_labels as run_selection
from moco_plugin.fewlabel.strategies import STRATEGIES, check_strategy
from moco_plugin.fewlabel.teacher import TEACHERS
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


def selection_request(args: argparse.Namespace) -> SelectionRequest:
    check_strategy(args.strategy)
    return SelectionRequest(model_of(args), args.labels, args.budget, args.strategy, args.out,
                            thresholds=parse_thresholds(args.threshold) or None,
                            fill=not args.no_fill, teacher=args.teacher,
                            max_clusters=args.max_clusters, sheet=args.sheet)


def select_labels(args: argparse.Namespace):
    return run_selection(selection_request(args), lambda m: log(PROG, m))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: select_labels(args))


if __name__ == '__main__':
    main()
