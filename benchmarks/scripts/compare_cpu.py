#!/usr/bin/env python
"""Pretrain every algorithm with the same settings, benchmark each, and compare them.

For each algorithm the driver loads its CIFAR-10 config (all share ResNet-18, the
MoCo v2 data and the SGD + cosine schedule), applies the same budget (epochs, subset,
batch, stem, optimizer, augmentation), adds a ``KNNMonitorHook``, writes the resulting config to
``<work-root>/<algorithm>/config.py``, pretrains it with ``tools/train.py``, evaluates
the last checkpoint with ``tools/benchmark_linear.py --knn --linear`` and finally
writes the comparison table and plot with ``--compare``.

Tiny end-to-end check (minutes on 2 CPU cores)::

    python benchmarks/scripts/compare_cpu.py --epochs 1 --subset 256 --batch-size 64 \\
        --stem imagenet --eval-subset-train 1000 --eval-subset-test 500 --linear-epochs 10 \\
        --work-root work_dirs/compare_tiny --results results/compare_tiny \\
        --out results/compare_tiny/comparison.md

The CPU comparison of benchmarks/results/comparison_cpu/README.md (90 minutes on 2 cores; the ImageNet stem on
32 px is ~6x faster than the CIFAR stem on a CPU)::

    python benchmarks/scripts/compare_cpu.py --epochs 6 --subset 0 --batch-size 64 --bn-splits 4 \\
        --stem imagenet --optimizer adamw --lr 3e-4 --fast-aug --jitter-strength 0.5 \\
        --gray-prob 0 --amp --jobs 2 --out benchmarks/results/comparison_cpu/comparison_cpu.md

Everything is re-run unless ``--skip-existing`` finds the checkpoint / result already there.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
CONFIGS: Dict[str, Optional[str]] = {
    'mocov2': 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py',
    'mocov1': 'configs/mocov1/mocov1_resnet18_1xb256-steplr-200e_cifar10.py',
    'simclr': 'configs/simclr/simclr_resnet18_1xb256-coslr-200e_cifar10.py',
    'byol': 'configs/byol/byol_resnet18_1xb256-coslr-200e_cifar10.py',
    'simsiam': 'configs/simsiam/simsiam_resnet18_1xb256-coslr-200e_cifar10.py',
    'supervised': 'configs/supervised/supervised_resnet18_1xb256-coslr-200e_cifar10.py',
    'random': 'configs/random_init/random_init_resnet18_cifar10.py',
}
FASTAUG_CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py'
DEFAULT_ALGORITHMS = ['mocov2', 'mocov1', 'simclr', 'byol', 'simsiam', 'random']
# training cost per image relative to MoCo (two views through the online network: ~1.5x;
# BYOL's symmetric loss also runs the target on both views): only orders the jobs
RELATIVE_COST = {'byol': 2.0, 'simclr': 1.5, 'simsiam': 1.5, 'supervised': 0.6, 'random': 0.0}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--algorithms', nargs='+', default=DEFAULT_ALGORITHMS, choices=list(CONFIGS))
    budget = parser.add_argument_group('pretraining budget (the same for every algorithm)')
    budget.add_argument('--epochs', type=int, default=20)
    budget.add_argument('--subset', type=int, default=10000,
                        help='class-balanced training images (0: the whole training split)')
    budget.add_argument('--batch-size', type=int, default=128)
    budget.add_argument('--optimizer', choices=['sgd', 'adamw'], default='sgd',
                        help="sgd: the configs' SGD (momentum 0.9); adamw: AdamW for every algorithm")
    budget.add_argument('--lr', type=float,
                        help="lr for all (default: the configs' 0.03 for sgd, 5e-4 for adamw)")
    budget.add_argument('--weight-decay', type=float,
                        help="weight decay for all (default: the configs' 5e-4 for sgd, 1e-4 for adamw)")
    budget.add_argument('--stem', choices=['cifar', 'imagenet', 'imagenet-nopool'], default='cifar',
                        help='ResNet stem: cifar (3x3, the configs), imagenet (7x7/2 + pool, ~6x '
                             'cheaper on a CPU) or imagenet-nopool (7x7/2, ~2x the imagenet cost)')
    budget.add_argument('--queue-len', type=int, help='MoCo queue length (default: the config, 4096)')
    budget.add_argument('--bn-splits', type=int, help="MoCo split-BN sub-batches (default: the config's 8)")
    budget.add_argument('--fast-aug', action='store_true',
                        help='two-view algorithms: batched augmentation on the training device from '
                             'images decoded once (BatchMoCoAugment, as the -fastaug config)')
    budget.add_argument('--jitter-strength', type=float, default=1.0,
                        help='scales the aug+ colour jitter (1: brightness/contrast/saturation 0.4, '
                             'hue 0.1); without --fast-aug MoCo v1 keeps its own v1 views')
    budget.add_argument('--gray-prob', type=float, default=0.2, help='random grayscale probability')
    budget.add_argument('--num-workers', type=int, default=2)
    budget.add_argument('--amp', action='store_true', help='bf16 autocast on CPU')
    budget.add_argument('--knn-monitor-interval', type=int,
                        help='KNNMonitorHook every N epochs (default: epochs / 5, at least 1; 0: off)')
    budget.add_argument('--monitor-bank', type=int, default=5000, help='k-NN monitor bank images')
    budget.add_argument('--monitor-query', type=int, default=1000, help='k-NN monitor test images')
    evaluation = parser.add_argument_group('evaluation (tools/benchmark_linear.py)')
    evaluation.add_argument('--eval-subset-train', type=int, help='bank / linear-train images (default: all)')
    evaluation.add_argument('--eval-subset-test', type=int, help='test images (default: all)')
    evaluation.add_argument('--k', type=int, nargs='+', default=[20, 200])
    evaluation.add_argument('--linear-epochs', type=int, default=100)
    evaluation.add_argument('--linear-lr', type=float, nargs='+', default=[30.0],
                            help='several values: chosen on held-out training images')
    paths = parser.add_argument_group('paths')
    paths.add_argument('--data-root', default=os.environ.get('MOCO_DATA_ROOT'),
                       help='CIFAR-10 folder (default: $MOCO_DATA_ROOT)')
    paths.add_argument('--work-root', default='work_dirs/compare_cpu')
    paths.add_argument('--results', default='results/compare_cpu', help='folder of the result JSONs')
    paths.add_argument('--out', default='work_dirs/compare_cpu/comparison.md')
    paths.add_argument('--plot', help='PNG (default: --out with .png)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='algorithms run at the same time, each with cores/jobs threads')
    parser.add_argument('--skip-existing', action='store_true',
                        help='reuse checkpoints and results that are already there')
    args = parser.parse_args(argv)
    if not args.data_root or not osp.isdir(args.data_root):
        parser.error(f'--data-root (or $MOCO_DATA_ROOT) must be the CIFAR-10 folder, got {args.data_root!r}')
    if args.epochs < 1 or args.batch_size < 1 or args.subset < 0:
        parser.error('--epochs and --batch-size must be >= 1 and --subset >= 0')
    if args.subset and args.subset < args.batch_size:
        parser.error(f'--subset {args.subset} is smaller than one batch ({args.batch_size})')
    if args.jobs < 1 or (args.bn_splits is not None and args.bn_splits < 1):
        parser.error('--jobs and --bn-splits must be >= 1')
    if args.jitter_strength < 0 or not 0 <= args.gray_prob <= 1:
        parser.error(f'--jitter-strength must be >= 0 and --gray-prob in [0, 1], got '
                     f'{args.jitter_strength} and {args.gray_prob}')
    return args


def apply_augmentation(cfg, args: argparse.Namespace) -> None:
    """The shared two-view augmentation: aug+ with the budget's jitter strength and grayscale.

    With ``--fast-aug`` the batched augmentation and loader pipeline are those of the
    ``-fastaug`` MoCo v2 config, with only the jitter and grayscale replaced.
    """
    strength = args.jitter_strength
    if args.fast_aug:
        from mmengine.config import Config
        fast = Config.fromfile(osp.join(REPO_ROOT, FASTAUG_CONFIG))
        augment = fast.model.data_preprocessor.batch_augment
        augment.update(brightness=augment.brightness * strength, contrast=augment.contrast * strength,
                       saturation=augment.saturation * strength, hue=augment.hue * strength,
                       grayscale_prob=args.gray_prob)
        cfg.model.data_preprocessor.batch_augment = augment
        cfg.train_dataloader.dataset.in_memory = fast.train_dataloader.dataset.in_memory
        cfg.train_dataloader.dataset.pipeline = fast.train_dataloader.dataset.pipeline
        return
    # the per-image path scales aug+ views (MoCoV2Augment); MoCo v1's own views stay as they are
    for view in cfg.train_dataloader.dataset.pipeline[0].transforms:
        if view.type == 'MoCoV2Augment':
            view.jitter_strength = strength
            view.gray_prob = args.gray_prob


def budget_config(algorithm: str, args: argparse.Namespace):
    """The algorithm's config with the shared budget applied (an mmengine Config)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO_ROOT, CONFIGS[algorithm]))
    cfg.model.backbone.cifar_stem = args.stem == 'cifar'
    cfg.model.backbone.stem_pool = args.stem == 'imagenet'
    cfg.train_dataloader.batch_size = args.batch_size
    cfg.train_dataloader.num_workers = args.num_workers
    cfg.train_dataloader.dataset.data_root = args.data_root
    cfg.train_dataloader.dataset.subset_size = args.subset or None
    cfg.train_cfg.max_epochs = args.epochs
    for scheduler in cfg.param_scheduler:  # the same schedule, compressed to the budget
        if scheduler.type == 'CosineAnnealingLR':
            scheduler.T_max = scheduler.end = args.epochs
        elif scheduler.type == 'MultiStepLR':
            scheduler.milestones = [round(m * args.epochs / 200) for m in scheduler.milestones]
    if args.optimizer == 'adamw':
        cfg.optim_wrapper.optimizer = dict(type='AdamW', lr=5e-4, weight_decay=1e-4)
    if args.lr is not None:
        cfg.optim_wrapper.optimizer.lr = args.lr
    if args.weight_decay is not None:
        cfg.optim_wrapper.optimizer.weight_decay = args.weight_decay
    if algorithm not in ('random', 'supervised'):
        apply_augmentation(cfg, args)
    if cfg.model.type == 'MoCo':
        if args.queue_len:
            cfg.model.queue_len = args.queue_len
        if args.bn_splits:
            cfg.model.bn_splits = args.bn_splits
        if cfg.model.get('bn_splits', 1) > 1 and args.batch_size % cfg.model.bn_splits:
            raise SystemExit(f'--batch-size {args.batch_size} must be a multiple of MoCo\'s '
                             f'bn_splits={cfg.model.bn_splits}')
    cfg.default_hooks.checkpoint.interval = args.epochs  # only the final checkpoint is needed
    cfg.default_hooks.logger.interval = 10
    interval = args.knn_monitor_interval
    interval = max(1, args.epochs // 5) if interval is None else interval
    if interval > 0 and algorithm != 'random':
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [dict(
            type='KNNMonitorHook', interval=interval, k=200, bank_size=args.monitor_bank,
            query_size=args.monitor_query, num_workers=0)]
    return cfg


def run(command: List[str], log_path: str, env: Optional[Dict[str, str]] = None,
        tag: str = '') -> float:
    """Run a command from the repo root, tee its output to ``log_path``; return its wall time."""
    print('+', ' '.join(command), flush=True)
    os.makedirs(osp.dirname(osp.abspath(log_path)), exist_ok=True)
    start = time.perf_counter()
    with open(log_path, 'w') as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, env=env)
        for line in process.stdout:
            log.write(line)
            if '[benchmark]' in line or 'k-NN monitor' in line or 'Epoch(train)' in line:
                print(f'   {tag}', line.rstrip(), flush=True)
        code = process.wait()
    if code:
        raise SystemExit(f'command failed (exit {code}); see {log_path}')
    return time.perf_counter() - start


def pretrain_and_evaluate(algorithm: str, args: argparse.Namespace,
                          env: Optional[Dict[str, str]]) -> Dict[str, float]:
    """Pretrain one algorithm under the budget and benchmark it; return its wall times."""
    python, timings = sys.executable, {}
    work_dir = osp.abspath(osp.join(REPO_ROOT, args.work_root, algorithm))
    os.makedirs(work_dir, exist_ok=True)
    cfg = budget_config(algorithm, args)
    config_path = osp.join(work_dir, 'config.py')
    cfg.dump(config_path)
    checkpoint = 'random' if algorithm == 'random' else osp.join(work_dir, f'epoch_{args.epochs}.pth')
    if algorithm != 'random' and not (args.skip_existing and osp.isfile(checkpoint)):
        command = [python, 'tools/train.py', config_path, '--work-dir', work_dir,
                   '--data-root', args.data_root] + (['--amp'] if args.amp else [])
        timings[f'{algorithm}_pretrain_s'] = run(command, osp.join(work_dir, 'train.log'), env,
                                                 f'[{algorithm}]')
    result = result_path(algorithm, args)
    if not (args.skip_existing and osp.isfile(result)):
        command = [python, 'tools/benchmark_linear.py', config_path, checkpoint, '--knn',
                   '--linear', '--name', algorithm, '--out', result, '--data-root',
                   args.data_root, '--k', *map(str, args.k), '--linear-epochs',
                   str(args.linear_epochs), '--linear-lr', *map(str, args.linear_lr),
                   '--num-workers', str(args.num_workers), '--quiet']
        for flag, value in (('--subset-train', args.eval_subset_train),
                            ('--subset-test', args.eval_subset_test)):
            if value:
                command += [flag, str(value)]
        timings[f'{algorithm}_eval_s'] = run(command, osp.join(work_dir, 'benchmark.log'), env,
                                             f'[{algorithm}]')
    return timings


def result_path(algorithm: str, args: argparse.Namespace) -> str:
    return osp.abspath(osp.join(REPO_ROOT, args.results, f'{algorithm}.json'))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    sys.path.insert(0, REPO_ROOT)
    python = sys.executable
    started = time.perf_counter()
    env = None
    if args.jobs > 1:  # one intra-op thread per job: OpenMP threads of two jobs fighting over
        # the same cores cost far more than they give (see benchmarks/results/comparison_cpu/README.md)
        threads = str(max(1, (os.cpu_count() or args.jobs) // args.jobs))
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    timings: Dict[str, float] = {}
    # the most expensive algorithms first, so the last job to finish is a short one
    order = sorted(args.algorithms, key=lambda a: -RELATIVE_COST.get(a, 1.0))
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for done in [pool.submit(pretrain_and_evaluate, a, args, env) for a in order]:
            timings.update(done.result())
    timings['total_s'] = time.perf_counter() - started
    results = [result_path(algorithm, args) for algorithm in args.algorithms]
    out = osp.join(REPO_ROOT, args.out)
    plot = osp.join(REPO_ROOT, args.plot) if args.plot else osp.splitext(out)[0] + '.png'
    title = (f'CIFAR-10, ResNet-18 ({args.stem} stem), {args.optimizer}, {args.epochs} epoch'
             f"{'s' if args.epochs > 1 else ''} on "
             f"{args.subset or 'all'} images, batch {args.batch_size}")
    run([python, 'tools/benchmark_linear.py', '--compare', *results, '--out', out, '--plot', plot,
         '--title', title], osp.join(REPO_ROOT, args.work_root, 'compare.log'))
    summary = osp.join(REPO_ROOT, args.work_root, 'driver_timings.json')
    with open(summary, 'w') as handle:
        json.dump(dict(args=vars(args), timings_s=timings), handle, indent=2)
    print(open(out).read())
    print(f'comparison: {out} and {plot}; driver timings: {summary}')


if __name__ == '__main__':
    main()
