"""``tools/transfer.py``: several checkpoints x several datasets, one table and one plot.

    python tools/transfer.py \\
        --checkpoint mocov2=mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu:work_dirs/quickstart/epoch_2.pth \\
        --checkpoint random=random_init_resnet18_cifar10:random \\
        --dataset cifar10 --dataset digits=work_dirs/digits/train,work_dirs/digits/test \\
        --knn --out benchmarks/results/transfer/transfer.md

A dataset is ``config`` / ``cifar10`` (the checkpoint config's own data), ``NAME=ROOT`` (a
dataset root as ``benchmark.py --eval-data`` reads it: torchvision's CIFAR-10/100 or
STL-10 download, or split folders ``train/`` + ``val/`` or ``test/``) or ``NAME=TRAIN,TEST``
with each side a folder of class folders or a ``path,label`` CSV. This module parses the
arguments into a :class:`moco_plugin.experiments.transfer.TransferSettings` and prints;
:func:`moco_plugin.experiments.transfer.run_transfer` runs the cells (each one
``tools/benchmark.py`` run, its JSON kept next to the table).
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.cli.errors import run_cli
from moco_plugin.experiments import transfer as experiment
from moco_plugin.utils.device_precision import DEVICE_HELP, PRECISION_CHOICES

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
                        help='feature extraction of every cell, as benchmark.py --precision')
    parser.add_argument('--extra', nargs=argparse.REMAINDER, default=[],
                        help='further benchmark.py arguments for every cell (last)')
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
    """``(name, benchmark.py data arguments)`` of one ``--dataset`` entry."""
    if text in OWN_DATA:
        return text, []
    name, eq, root = text.partition('=')
    if eq and name and root and (',' not in root or osp.isdir(root)):
        return name, ['--eval-data', root]
    name, train, test = _pair(text, ',', '--dataset', 'NAME=ROOT or NAME=TRAIN,TEST (or config)')
    return name, ['--train-data', train, '--test-data', test]


# The raw --checkpoint/--dataset values; the settings get them parsed (checkpoints, datasets).
RAW_OPTIONS = ('checkpoint', 'dataset')


def settings_from_args(args: argparse.Namespace) -> experiment.TransferSettings:
    """Every option under its own name (one without a field is a TypeError here)."""
    return experiment.TransferSettings(**{k: v for k, v in vars(args).items()
                                          if k not in RAW_OPTIONS})


def cell_argv(config: str, checkpoint: str, dataset: Tuple[str, List[str]], out: str,
              args: argparse.Namespace) -> List[str]:
    """The benchmark command line of one cell."""
    return experiment.cell_argv(config, checkpoint, dataset, out, settings_from_args(args))


def run_cell(argv: List[str]) -> dict:
    """One cell: the benchmark's own command line, parsed and run (it prints its row)."""
    bench_args = benchmark_cli.parse_args(argv)
    bench_args.argv = list(argv)
    return benchmark_cli.benchmark(bench_args)


def transfer(args: argparse.Namespace) -> Dict[Tuple[str, str], dict]:
    cells, text = experiment.run_transfer(settings_from_args(args), run_cell)
    print(text)
    return cells


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: transfer(args))


if __name__ == '__main__':
    main(sys.argv[1:])
