"""``tools/sweep.py SPEC``: train and evaluate every run of a sweep, then tabulate and plot.

This module parses the arguments into a :class:`moco_plugin.experiments.sweep.SweepSettings`
and prints; the sweep is :func:`moco_plugin.experiments.sweep.run_sweep` (specs:
:mod:`moco_plugin.experiments.sweep_spec`).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Optional

from moco_plugin.cli.errors import run_cli
from moco_plugin.experiments.sweep import SweepSettings, run_sweep

PROG = 'sweep.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description='Run a sweep spec: train, evaluate, '
                                     'tabulate and plot every run.')
    parser.add_argument('spec', type=Path,
                        help='sweep spec (JSON, see moco_plugin/experiments/sweep_spec.py)')
    parser.add_argument('--work-root', type=Path, default=Path('work_dirs/sweeps'))
    parser.add_argument('--out', type=Path, help='results page (default benchmarks/results/ablations/NAME.md)')
    parser.add_argument('--jobs', type=int, default=1, help='runs at a time')
    parser.add_argument('--data-root', help='dataset folder, passed to every run')
    parser.add_argument('--dry-run', action='store_true', help='list and check the runs only')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing: tabulate and plot the finished runs, list the others')
    parser.add_argument('--seeds', type=int, nargs='+',
                        help="run only these seeds (default: the spec's); e.g. '--seeds 0' "
                        'gives every point one seed first, a later run adds the rest')
    parser.add_argument('--baseline', metavar='LABEL',
                        help="add each point's difference to this point and Welch's p-value "
                        "(LABEL: the point's cells in the table, e.g. '256' or 'in-224px, 0.9', "
                        "or its run id without the seed, e.g. 'queue_len=256')")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    return args


def settings_from_args(args: argparse.Namespace) -> SweepSettings:
    """Every option under its own name (one without a field is a TypeError here)."""
    return SweepSettings(**vars(args))


def say(text: str) -> None:
    print(text, flush=True)


def sweep(args: argparse.Namespace) -> List[Dict]:
    return run_sweep(settings_from_args(args), say)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: sweep(args))


if __name__ == '__main__':
    main()
