"""``tools/benchmark_linear.py CONFIG CHECKPOINT``: k-NN and linear benchmarks of a frozen backbone.

Evaluate one checkpoint of any registered algorithm::

    python tools/benchmark_linear.py configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py \\
        work_dirs/mocov2/epoch_200.pth --knn --linear --out results/mocov2.json

The benchmarks themselves are in :mod:`moco_plugin.cli.benchmark_steps` (one function
each), the shared set-up in :mod:`moco_plugin.cli.benchmark_setup` and the result files in
:mod:`moco_plugin.cli.benchmark_report`.

Compare several result files::

    python tools/benchmark_linear.py --compare results/*.json \\
        --out benchmarks/comparison.md --plot benchmarks/comparison.png
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys
import time
from typing import Any, Dict, List, Optional

import numpy as np

from moco_plugin.cli.benchmark_report import describe_run, write_report
from moco_plugin.cli.benchmark_setup import prepare
from moco_plugin.cli.benchmark_steps import (run_feature_map, run_few_shot, run_knn, run_linear,
                                             run_retrieval)
from moco_plugin.cli.cfg_options import CfgOptionsAction
from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.runtime_options import add_runtime_arguments, check_runtime_arguments
from moco_plugin.evaluation.compare import write_comparison
from moco_plugin.evaluation.feature_map import plot_feature_map
from moco_plugin.evaluation.results import load_results

PROG = 'benchmark_linear.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description='k-NN and linear-probe benchmarks of a frozen pretrained backbone, or '
                    '(--compare) a table and plot of several results.')
    parser.add_argument('config', nargs='?', help='config of the model and the dataset')
    parser.add_argument('checkpoint', nargs='?',
                        help="checkpoint: a .pth path, zoo://NAME, or 'random'/'none' for the "
                             'untrained (random-init) backbone')
    what = parser.add_argument_group('what to run (default: --knn --linear)')
    what.add_argument('--knn', action='store_true', help='weighted k-NN classification')
    what.add_argument('--linear', action='store_true', help='linear probe on the frozen backbone')
    what.add_argument('--retrieval', type=int, default=0, metavar='N',
                      help='also write a PNG of N test images and their 8 nearest training images')
    what.add_argument('--few-shot', nargs='+', default=[], metavar='NxK',
                      help='N-way K-shot episodes on the test split, e.g. 5x1 5x5')
    what.add_argument('--feature-map', type=int, default=0, metavar='N',
                      help='also write a t-SNE map (PNG) of N test images coloured by class')
    shot = parser.add_argument_group('few-shot')
    shot.add_argument('--few-shot-episodes', type=int, default=600)
    shot.add_argument('--few-shot-queries', type=int, default=15, help='query images per class')
    shot.add_argument('--few-shot-classifier', nargs='+', default=['prototype', 'logistic'],
                      choices=['prototype', 'logistic'])
    shot.add_argument('--few-shot-full', action='store_true',
                      help='instead of episodes: every class, K training images each, scored on '
                           'the whole test split (3 seeds)')
    knn = parser.add_argument_group('k-NN')
    knn.add_argument('--k', type=int, nargs='+', default=[200], help='neighbour counts, evaluated in one pass')
    knn.add_argument('--temperature', type=float, default=0.1, help='vote weight exp(sim / T)')
    lin = parser.add_argument_group('linear probe (MoCo protocol defaults)')
    lin.add_argument('--linear-epochs', type=int, default=100)
    lin.add_argument('--linear-lr', type=float, nargs='+', default=[30.0], metavar='LR',
                     help='base lr; several values: each is trained on the training split minus '
                          'a held-out part (--linear-val-fraction), the best on that part is '
                          'retrained on the whole training split and tested')
    lin.add_argument('--linear-val-fraction', type=float, default=0.1,
                     help='share of each training class held out to choose among several '
                          '--linear-lr values (the test split is never used to choose)')
    lin.add_argument('--holdout-group', metavar='csv|REGEX',
                     help="hold out whole groups when choosing the lr: 'csv' takes the group "
                          'column of --csv-columns, a regex takes the first group it captures '
                          "in each file name (e.g. '^(\\d+)_' for GTSRB's track prefix), so "
                          'near-duplicate frames stay on one side')
    lin.add_argument('--linear-momentum', type=float, default=0.9)
    lin.add_argument('--linear-wd', type=float, default=0.0, help='weight decay')
    lin.add_argument('--linear-batch-size', type=int, default=256)
    lin.add_argument('--linear-schedule', choices=['cos', 'step'], default='cos',
                     help='per-epoch cosine, or x0.1 at 60%% and 80%% of the epochs')
    lin.add_argument('--linear-aug', action='store_true',
                     help='train-time augmentation (RandomResizedCrop + flip): every epoch runs '
                          'the backbone on new crops (slow); default: cached features')
    lin.add_argument('--linear-normalize', action='store_true',
                     help='L2-normalise features first (not MoCo protocol; use a smaller lr)')
    data = parser.add_argument_group('data')
    data.add_argument('--data-root', help='dataset folder; overrides the config and $MOCO_DATA_ROOT')
    data.add_argument('--subset-train', type=int, metavar='N',
                      help='class-balanced subset of the training split (bank / linear train)')
    data.add_argument('--subset-test', type=int, metavar='N', help='subset of the test split')
    data.add_argument('--subset-seed', type=int, default=0)
    data.add_argument('--train-split', help='bank / linear-train split (default: train)')
    data.add_argument('--test-split', help='test split (default: test for CIFAR-10/100 and STL-10, '
                                           'else val; --eval-data folders: val, else test)')
    data.add_argument('--image-size', type=int,
                      help="evaluation crop (default: the resolution the config trains at, e.g. "
                           "32 for the CIFAR-10 configs, 224 for ImageNet's)")
    data.add_argument('--eval-data', metavar='ROOT',
                      help='evaluate on another dataset, both splits from one root whose layout '
                           'is detected: cifar-10-batches-py/, cifar-100-python/, stl10_binary/ '
                           '(torchvision downloads) or split folders train/ + val/ or test/ of '
                           'class folders (--train-split/--test-split pick others)')
    data.add_argument('--cifar100-labels', choices=('fine', 'coarse'),
                      help="with a CIFAR-100 --eval-data root: its 100 'fine' classes (default) "
                           "or the 20 'coarse' superclasses")
    data.add_argument('--train-data', metavar='PATH',
                      help='evaluate on another dataset: its labelled training images, a folder '
                           'of class folders or a .csv/.tsv of path,label rows (with --test-data)')
    data.add_argument('--test-data', metavar='PATH', help='the test images of --train-data, same forms')
    data.add_argument('--csv-columns', default='path,label', metavar='PATH,LABEL[,GROUP]',
                      help='header names of the path, label (and group) columns of a CSV/TSV')
    data.add_argument('--image-root', help='folder the CSV paths are relative to (default: the '
                                           "CSV's folder)")
    run = parser.add_argument_group('runtime')
    run.add_argument('--batch-size', type=int, default=256, help='feature-extraction batch size')
    run.add_argument('--num-workers', type=int, default=2, help='data-loader workers')
    run.add_argument('--no-cache', action='store_true', help='recompute features, do not store them')
    run.add_argument('--seed', type=int, default=0,
                     help='seed of the random-init weights and of the linear probe')
    run.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                     help='override config keys, e.g. model.backbone.cifar_stem=False')
    add_runtime_arguments(parser, amp_help='same as --precision amp: mixed-precision extraction '
                                           'asked for explicitly (bf16 on a CPU, as auto on CUDA)')
    out = parser.add_argument_group('output')
    out.add_argument('--out', help='result JSON (default results/<name>.json); with --compare: '
                                   'the markdown table (default benchmarks/comparison.md)')
    out.add_argument('--name', help='row name (default: config name, +"-random" for random init)')
    out.add_argument('--markdown', help='markdown file the result row is appended to '
                                        '(default: results.md next to --out)')
    out.add_argument('--quiet', action='store_true', help='no progress bars')
    cmp_ = parser.add_argument_group('comparison')
    cmp_.add_argument('--compare', nargs='+', metavar='RESULT.json',
                      help='result files to put side by side (no CONFIG/CHECKPOINT then)')
    cmp_.add_argument('--plot', help='comparison PNG (default: the --out path with .png)')
    cmp_.add_argument('--title', default='SSL benchmark', help='comparison title')
    args = parser.parse_args(argv)

    if args.compare:
        if args.config or args.checkpoint:
            parser.error('--compare takes result files only, not CONFIG CHECKPOINT')
        return args
    if not args.config or not args.checkpoint:
        parser.error('CONFIG and CHECKPOINT are required (or use --compare RESULT.json ...)')
    if not (args.knn or args.linear or args.few_shot or args.feature_map):
        args.knn = args.linear = True
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
    if problems:
        parser.error('; '.join(problems))
    check_runtime_arguments(parser, args)  # the precision is resolved once the crop size is known
    return args


def log(message: str) -> None:
    print(f'[benchmark] {message}', file=sys.stderr, flush=True)


def benchmark(args: argparse.Namespace) -> Dict[str, Any]:
    """Run the requested evaluations for one config + checkpoint; return the result dict."""
    started = time.perf_counter()
    # The augmented linear probe runs the backbone itself: train features only serve k-NN / retrieval.
    need_train = bool(args.knn or args.retrieval or (args.linear and not args.linear_aug)
                      or (args.few_shot and args.few_shot_full))
    ctx = prepare(args, log, need_train)
    result = describe_run(ctx, args)
    if args.knn:
        result.update(run_knn(ctx, args, log))
    if args.linear:
        result.update(run_linear(ctx, args, log))
    if args.retrieval:
        result.update(run_retrieval(ctx, args, log))
    if args.few_shot:
        result.update(run_few_shot(ctx, args, log))
    if args.feature_map:
        result.update(run_feature_map(ctx, args, log))
    write_report(result, ctx, args, time.perf_counter() - started, log)
    return result


def compare(args: argparse.Namespace) -> str:
    results = load_results(args.compare)
    markdown_path = args.out or osp.join('benchmarks', 'comparison.md')
    plot_path = args.plot or osp.splitext(markdown_path)[0] + '.png'
    text = write_comparison(results, markdown_path, plot_path, args.title)
    print(text)
    log(f'comparison of {len(results)} results written to {markdown_path} and {plot_path}')
    maps = [(r['name'], np.asarray(r['feature_map']['points']), np.asarray(r['feature_map']['labels']))
            for r in results if r.get('feature_map')]
    if maps:  # the t-SNE maps of the compared checkpoints, side by side
        maps_path = osp.splitext(markdown_path)[0] + '_feature_maps.png'
        classes = next((r['dataset'].get('classes') for r in results
                        if r.get('feature_map') and (r.get('dataset') or {}).get('classes')), None)
        plot_feature_map(maps, maps_path, class_names=classes)
        log(f'{len(maps)} feature maps side by side in {maps_path}')
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
