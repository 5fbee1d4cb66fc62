"""``tools/benchmark.py CONFIG CHECKPOINT``: k-NN and linear benchmarks of a frozen backbone.

Evaluate one checkpoint of any registered algorithm::

    python tools/benchmark.py configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py \\
        work_dirs/mocov2/epoch_200.pth --knn --linear --out results/mocov2.json

This module parses the arguments into a
:class:`moco_plugin.experiments.benchmark_settings.BenchmarkSettings` and prints; the run is
:func:`moco_plugin.experiments.benchmark.run_benchmark`. ``tools/benchmark_linear.py`` is
the old name of this tool, kept as an alias.

Compare several result files::

    python tools/benchmark.py --compare results/*.json \\
        --out results/comparison.md --plot results/comparison.png
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
from typing import Any, Dict, List, Optional

from moco_plugin.cli import benchmark_args as groups
from moco_plugin.cli.benchmark_checks import benchmark_problems
from moco_plugin.cli.benchmark_data_args import (COMPARISON_OPTIONS, add_comparison_arguments,
                                                 add_data_arguments, add_output_arguments)
from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.runtime_options import check_runtime_arguments
from moco_plugin.evaluation.results import markdown_row
from moco_plugin.experiments.benchmark import compare_results, run_benchmark
from moco_plugin.experiments.benchmark_settings import BenchmarkSettings

PROG = 'benchmark.py'


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description='k-NN and linear-probe benchmarks of a frozen pretrained backbone, or '
                    '(--compare) a table and plot of several results.')
    groups.add_what_arguments(parser)
    groups.add_few_shot_arguments(parser)
    groups.add_knn_arguments(parser)
    groups.add_linear_arguments(parser)
    add_data_arguments(parser)
    groups.add_run_arguments(parser)
    add_output_arguments(parser)
    add_comparison_arguments(parser)
    return parser


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.compare:
        if args.config or args.checkpoint:
            parser.error('--compare takes result files only, not CONFIG CHECKPOINT')
        return args
    if not args.config or not args.checkpoint:
        parser.error('CONFIG and CHECKPOINT are required (or use --compare RESULT.json ...)')
    if not (args.knn or args.linear or args.few_shot or args.feature_map):
        args.knn = args.linear = True
    problems = benchmark_problems(args)
    if problems:
        parser.error('; '.join(problems))
    check_runtime_arguments(parser, args)  # the precision is resolved once the crop size is known
    return args


def settings_from_args(args: argparse.Namespace) -> BenchmarkSettings:
    """Every option but the comparison's, under its own name (an option without a field is a
    TypeError here, not a silently dropped flag)."""
    return BenchmarkSettings(**{k: v for k, v in vars(args).items()
                                if k not in COMPARISON_OPTIONS})


def log(message: str) -> None:
    print(f'[benchmark] {message}', file=sys.stderr, flush=True)


def benchmark(args: argparse.Namespace) -> Dict[str, Any]:
    """Run the requested evaluations for one config + checkpoint; print the markdown row;
    return the result dict."""
    settings = settings_from_args(args)
    result = run_benchmark(settings, log)
    print(markdown_row(result))
    return result


def compare(args: argparse.Namespace) -> str:
    markdown_path = args.out or osp.join('results', 'comparison.md')
    plot_path = args.plot or osp.splitext(markdown_path)[0] + '.png'
    text = compare_results(args.compare, markdown_path, plot_path, args.title, log)
    print(text)
    return text


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    def _run() -> None:
        if args.compare:
            compare(args)
        else:
            benchmark(args)

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
