"""The checks of ``tools/benchmark.py``'s parsed arguments: every problem in one argparse
error line."""
from __future__ import annotations

import argparse
from typing import List


def _few_shot_problems(args: argparse.Namespace) -> List[str]:
    """Parse ``--few-shot`` NxK items into ``args.few_shot`` (N, K) pairs."""
    problems = []
    try:
        args.few_shot = [tuple(int(v) for v in item.lower().split('x')) for item in args.few_shot]
        if any(len(t) != 2 or t[0] < 2 or t[1] < 1 for t in args.few_shot):
            raise ValueError
    except ValueError:
        problems.append(f'--few-shot takes N-way x K-shot pairs such as 5x1 5x5 (N >= 2, K >= 1), '
                        f'got {args.few_shot}')
    if args.few_shot_episodes < 1 or args.few_shot_queries < 1:
        problems.append('--few-shot-episodes and --few-shot-queries must be >= 1')
    return problems


def _data_problems(args: argparse.Namespace) -> List[str]:
    problems = []
    if args.eval_data and (args.train_data or args.test_data):
        problems.append('--eval-data names both splits of one dataset root; it does not go with '
                        '--train-data/--test-data: pass one or the other')
    elif args.data_root and (args.eval_data or args.train_data):
        problems.append(f'--data-root points the config\'s own dataset elsewhere and is not used '
                        f'with --{"eval" if args.eval_data else "train"}-data, which names the '
                        'data: pass one or the other')
    elif bool(args.train_data) != bool(args.test_data):
        problems.append('--train-data and --test-data go together (the bank / probe training set '
                        'and the test set of the other dataset)')
    if args.cifar100_labels and not args.eval_data:
        problems.append('--cifar100-labels goes with a CIFAR-100 --eval-data root')
    if not 2 <= len(args.csv_columns.split(',')) <= 3:
        problems.append(f'--csv-columns takes PATH,LABEL or PATH,LABEL,GROUP, got {args.csv_columns!r}')
    return problems


def _number_problems(args: argparse.Namespace) -> List[str]:
    problems = []
    if args.feature_map < 0:
        problems.append(f'--feature-map must be >= 0, got {args.feature_map}')
    if any(k < 1 for k in args.k):
        problems.append(f'--k values must be >= 1, got {args.k}')
    if args.temperature <= 0:
        problems.append(f'--temperature must be > 0, got {args.temperature}')
    for flag in ('subset_train', 'subset_test'):
        value = getattr(args, flag)
        if value is not None and value < 1:
            problems.append(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    for flag in ('linear_epochs', 'linear_batch_size', 'batch_size'):
        if getattr(args, flag) < 1:
            problems.append(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if any(lr <= 0 for lr in args.linear_lr):
        problems.append(f'--linear-lr values must be > 0, got {args.linear_lr}')
    if not 0 < args.linear_val_fraction < 1:
        problems.append(f'--linear-val-fraction must be in (0, 1), got {args.linear_val_fraction}')
    if args.linear_aug and len(args.linear_lr) > 1:
        problems.append('--linear-aug takes one --linear-lr (the lr sweep runs on cached '
                        'features); choose the lr without --linear-aug first')
    if args.retrieval < 0:
        problems.append(f'--retrieval must be >= 0, got {args.retrieval}')
    return problems


def benchmark_problems(args: argparse.Namespace) -> List[str]:
    """What is wrong with a benchmark's arguments (empty: nothing); ``--few-shot`` items are
    parsed into (N, K) pairs on the way."""
    return _few_shot_problems(args) + _data_problems(args) + _number_problems(args)
