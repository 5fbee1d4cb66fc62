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
import json
import os.path as osp
import time
from typing import Any, Dict, List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import (add_data_arguments, build_split, features_of,
                                             load_config, load_model, log)
from moco_plugin.fewlabel.active_loop import DEFAULT_SCHEDULE, run_active_loop, summarise
from moco_plugin.fewlabel.strategies import STRATEGIES, check_strategy
from moco_plugin.fewlabel.teacher import TEACHERS
from moco_plugin.utils.atomic_io import atomic_save_png, atomic_write_text

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
    parser.add_argument('--out-dir', required=True)
    add_data_arguments(parser)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--no-cache', action='store_true')
    parser.add_argument('--quiet', action='store_true')
    args = parser.parse_args(argv)
    args.seed = 0
    return args


def study(args: argparse.Namespace) -> Dict[str, Any]:
    for strategy in args.strategies:
        check_strategy(strategy)
    started = time.perf_counter()
    out: Dict[str, Any] = dict(schedule=args.schedule, seeds=args.seeds, teacher=args.teacher,
                               models={})
    for name, config, checkpoint in args.model:
        args.config = config
        cfg = load_config(args)
        pool_set, pool_cfg = build_split(cfg, args, 'train', checkpoint)
        test_set, test_cfg = build_split(cfg, args, 'test', checkpoint, pool=pool_set)
        backbone = load_model(cfg, checkpoint)
        tick = time.perf_counter()
        pool = features_of(backbone, pool_set, pool_cfg, args, PROG)
        test = features_of(backbone, test_set, test_cfg, args, PROG)
        runs: Dict[str, List[List[Dict[str, float]]]] = {}
        model_out: Dict[str, Any] = dict(config=config, checkpoint=checkpoint,
                                         checkpoint_sha256=backbone.checkpoint_sha256,
                                         features_s=round(time.perf_counter() - tick, 2),
                                         runs=runs)
        for strategy in args.strategies:
            tick = time.perf_counter()
            runs[strategy] = [run_active_loop(pool, test, strategy, args.schedule, seed,
                                              len(pool_set.classes), args.teacher,
                                              log=lambda m: log(PROG, f'{name}: {m}'))
                              for seed in args.seeds]
            model_out.setdefault('strategy_s', {})[strategy] = round(time.perf_counter() - tick, 2)
        model_out['summary'] = summarise(runs)
        out['models'][name] = model_out
        # written after every model, so an interrupted study keeps what it finished
        atomic_write_text(json.dumps(out, indent=1), osp.join(args.out_dir, 'active_learning.json'))
        plot_curves(model_out['summary'], osp.join(args.out_dir, f'active_learning_{name}.png'),
                    f'{name}: active selection, linear probe on frozen features '
                    f'({len(args.seeds)} seeds)')
    out['total_s'] = round(time.perf_counter() - started, 2)
    atomic_write_text(json.dumps(out, indent=1), osp.join(args.out_dir, 'active_learning.json'))
    table = markdown_table(out)
    atomic_write_text(table, osp.join(args.out_dir, 'active_learning.md'))
    print(table)
    return out


def markdown_table(out: Dict[str, Any]) -> str:
    lines = []
    for name, model in out['models'].items():
        counts = out['schedule']
        lines += [f'**{name}** (test top-1 %, mean ± std over seeds {out["seeds"]})', '',
                  '| strategy | ' + ' | '.join(str(c) for c in counts) + ' | time |',
                  '|---|' + '---|' * (len(counts) + 1)]
        for strategy, rows in model['summary'].items():
            cells = [f"{r['mean']:.1f} ± {r['std']:.1f}" for r in rows]
            lines.append(f'| {strategy} | ' + ' | '.join(cells) +
                         f" | {model['strategy_s'][strategy]:.0f} s |")
        lines.append('')
    return '\n'.join(lines) + '\n'


def plot_curves(summary: Dict[str, List[Dict[str, float]]], path: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for strategy, rows in summary.items():
        x = [r['labels'] for r in rows]
        mean = [r['mean'] for r in rows]
        std = [r['std'] for r in rows]
        ax.errorbar(x, mean, yerr=std, marker='.', capsize=2, label=strategy)
    ax.set_xscale('log')
    ax.set_xlabel('labels')
    ax.set_ylabel('test top-1 (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    atomic_save_png(fig, path)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: study(args))


if __name__ == '__main__':
    main()
