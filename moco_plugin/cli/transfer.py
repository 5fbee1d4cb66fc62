"""``tools/transfer.py``: several checkpoints x several datasets, one table and one plot.

    python tools/transfer.py \\
        --checkpoint mocov2=mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu:work_dirs/quickstart/epoch_2.pth \\
        --checkpoint random=random_init_resnet18_cifar10:random \\
        --dataset cifar10 --dataset digits=work_dirs/digits/train,work_dirs/digits/test \\
        --knn --out benchmarks/results/transfer/transfer.md

A dataset is ``config`` / ``cifar10`` (the checkpoint config's own data), ``NAME=ROOT`` (a
dataset root as ``benchmark_linear.py --eval-data`` reads it: torchvision's CIFAR-10/100 or
STL-10 download, or split folders ``train/`` + ``val/`` or ``test/``) or ``NAME=TRAIN,TEST``
with each side a folder of class folders or a ``path,label`` CSV. Every
cell is one ``tools/benchmark_linear.py`` run (its JSON is kept next to the table), so the
cells carry the same provenance as single benchmarks.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

from moco_plugin.cli import benchmark_linear
from moco_plugin.utils.device_precision import DEVICE_HELP, PRECISION_CHOICES
from moco_plugin.cli.errors import run_cli
from moco_plugin.utils.atomic_io import atomic_write_text

PROG = 'transfer.py'
OWN_DATA = ('config', 'cifar10')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description='Transfer table: checkpoints x datasets.')
    parser.add_argument('--checkpoint', action='append', required=True, metavar='NAME=CONFIG:CKPT')
    parser.add_argument('--dataset', action='append', required=True,
                        metavar='config|NAME=ROOT|NAME=TRAIN,TEST')
    parser.add_argument('--knn', action='store_true', help='k-NN top-1 (default when nothing is given)')
    parser.add_argument('--linear', action='store_true', help='linear-probe top-1')
    parser.add_argument('--out', default='benchmarks/results/transfer/transfer.md')
    parser.add_argument('--device', help=DEVICE_HELP)
    parser.add_argument('--precision', choices=PRECISION_CHOICES, default='auto',
                        help='feature extraction of every cell, as benchmark_linear.py --precision')
    parser.add_argument('--extra', nargs=argparse.REMAINDER, default=[],
                        help='further benchmark_linear.py arguments for every cell (last)')
    args = parser.parse_args(argv)
    if not (args.knn or args.linear):
        args.knn = True
    args.checkpoints = [_pair(c, ':', '--checkpoint', 'NAME=CONFIG:CKPT') for c in args.checkpoint]
    args.datasets = [_dataset(d) for d in args.dataset]
    return args


def _pair(text: str, sep: str, flag: str, form: str) -> Tuple[str, str, str]:
    name, eq, rest = text.partition('=')
    first, found, second = rest.partition(sep)
    if not (eq and found and name and first and second):
        raise SystemExit(f'{PROG}: error: {flag} {text!r} must look like {form}')
    return name, first, second


def _dataset(text: str) -> Tuple[str, List[str]]:
    """``(name, benchmark_linear.py data arguments)`` of one ``--dataset`` entry."""
    if text in OWN_DATA:
        return text, []
    name, eq, root = text.partition('=')
    if eq and name and root and (',' not in root or osp.isdir(root)):
        return name, ['--eval-data', root]
    name, train, test = _pair(text, ',', '--dataset', 'NAME=ROOT or NAME=TRAIN,TEST (or config)')
    return name, ['--train-data', train, '--test-data', test]


def cell_argv(config: str, checkpoint: str, dataset: Tuple[str, List[str]], out: str,
              args) -> List[str]:
    argv = [config, checkpoint, '--out', out, '--quiet', '--markdown', out[:-5] + '.md']
    argv += ['--knn'] if args.knn else []
    argv += ['--linear'] if args.linear else []
    argv += ['--precision', getattr(args, 'precision', None) or 'auto']
    argv += ['--device', args.device] if getattr(args, 'device', None) else []
    return argv + dataset[1] + list(args.extra)


def transfer(args: argparse.Namespace) -> Dict[Tuple[str, str], dict]:
    folder = osp.splitext(args.out)[0]
    cells = {}
    for ck_name, config, checkpoint in args.checkpoints:
        for dataset in args.datasets:
            out = osp.join(folder, f'{ck_name}__{dataset[0]}.json')
            bench_args = benchmark_linear.parse_args(cell_argv(config, checkpoint, dataset, out, args))
            bench_args.argv = cell_argv(config, checkpoint, dataset, out, args)
            cells[(ck_name, dataset[0])] = benchmark_linear.benchmark(bench_args)
    text = table(args, cells)
    atomic_write_text(text, args.out)
    plot(args, cells, folder + '.png')
    print(text)
    return cells


def _score(result: dict, metric: str) -> Optional[float]:
    if metric == 'knn' and result.get('knn'):
        return float(next(iter(result['knn'].values()))['top1'])
    if metric == 'linear' and result.get('linear'):
        return float(result['linear']['top1'])
    return None


def table(args, cells) -> str:
    metrics = [m for m in ('knn', 'linear') if getattr(args, m)]
    names = [d[0] for d in args.datasets]
    head = ['checkpoint'] + [f'{d} {m}' for d in names for m in metrics]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for ck_name, _, _ in args.checkpoints:
        row = [ck_name]
        for d in names:
            for m in metrics:
                value = _score(cells[(ck_name, d)], m)
                row.append('–' if value is None else f'{value:.2f}')
        lines.append('| ' + ' | '.join(row) + ' |')
    sizes = {d: cells[(args.checkpoints[0][0], d)]['dataset'] for d in names}
    notes = [f'- {d}: {s.get("data_root")}, {s.get("num_classes")} classes, {s.get("image_size")} px'
             for d, s in sizes.items()]
    return '\n'.join(lines + [''] + notes) + '\n'


def plot(args, cells, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    metric = 'knn' if args.knn else 'linear'
    names = [d[0] for d in args.datasets]
    width = 0.8 / len(args.checkpoints)
    fig, ax = plt.subplots(figsize=(2 + 2 * len(names), 4))
    for i, (ck_name, _, _) in enumerate(args.checkpoints):
        values = [_score(cells[(ck_name, d)], metric) or 0.0 for d in names]
        ax.bar([j + i * width for j in range(len(names))], values, width, label=ck_name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
    ax.set_ylabel(f'{metric} top-1 (%)')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: transfer(args))


if __name__ == '__main__':
    main(sys.argv[1:])
