"""``tools/active_learning.py``: the active-learning study on cached features, one command.

For each model (``--model NAME CONFIG CHECKPOINT``, repeatable), each strategy and each
seed: start at the first label count of ``--schedule`` and grow to the last, revealing
the true labels of the picks from the dataset (a simulated labeller); after each round a
linear probe on the labelled features is measured on the untouched test split::

    python tools/active_learning.py \\
        --model mocov2 work_dirs/fewlabel_pretrain/mocov2/config.py \\
            work_dirs/fewlabel_pretrain/mocov2/epoch_2.pth \\
        --strategies random entropy kmeans typiclust hybrid --seeds 0 1 2 \\
        --schedule 10 20 40 80 160 320 640 1000 --out-dir benchmarks/results/few_labels

Writes ``active_learning.json`` (every round of every run, with times), a markdown table
(mean +- std over seeds) and one PNG per model.
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import (add_data_arguments, data_options,
                                             extraction_options, log)
from moco_plugin.experiments.active_learning_study import ActiveLearningStudy
from moco_plugin.experiments.active_learning_study import study as run_study
from moco_plugin.fewlabel.active_loop import DEFAULT_SCHEDULE
from moco_plugin.fewlabel.reports import markdown_table, plot_curves  # noqa: F401  (their home)
from moco_plugin.fewlabel.strategies import STRATEGIES
from moco_plugin.fewlabel.teacher import TEACHERS
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS

PROG = 'active_learning.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--model', nargs=3, action='append', required=True,
                        metavar=('NAME', 'CONFIG', 'CHECKPOINT'),
                        help="a model whose features are studied; CHECKPOINT 'random' = random init")
    parser.add_argument('--strategies', nargs='+', default=['random', 'entropy', 'kmeans',
                                                            'typiclust', 'hybrid'],
                        help=f'of: {", ".join(STRATEGIES)}')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--schedule', type=int, nargs='+', default=list(DEFAULT_SCHEDULE),
                        help='label counts after each round')
    parser.add_argument('--teacher', choices=TEACHERS, default='linear')
    parser.add_argument('--max-clusters', type=int, default=MAX_CLUSTERS,
                        help="TypiClust's cap on its L + B clusters (the authors': 500)")
    parser.add_argument('--out-dir', required=True)
    add_data_arguments(parser)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--no-cache', action='store_true')
    parser.add_argument('--quiet', action='store_true')
    args = parser.parse_args(argv)
    if args.max_clusters < 1:
        parser.error(f'--max-clusters must be >= 1, got {args.max_clusters}')
    args.seed = 0
    return args


def study(args: argparse.Namespace) -> Dict[str, Any]:
    request = ActiveLearningStudy([tuple(m) for m in args.model], args.out_dir,
                                  strategies=list(args.strategies), seeds=list(args.seeds),
                                  schedule=list(args.schedule), teacher=args.teacher,
                                  max_clusters=args.max_clusters,
                                  data=data_options(args), extraction=extraction_options(args))
    out = run_study(request, lambda m: log(PROG, m))
    print(markdown_table(out))
    return out


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: study(args))


if __name__ == '__main__':
    main()
