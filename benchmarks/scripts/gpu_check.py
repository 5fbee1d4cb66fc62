#!/usr/bin/env python
"""One command for a GPU machine: MoCo v2 ResNet-18 on CIFAR-10, step speeds, N epochs, k-NN.

1. prints the environment (GPU, driver, torch, CUDA, cuDNN, capability);
2. for each setting (fp32, bf16, bf16 + channels_last, bf16 + channels_last + torch.compile)
   measures the img/s of the model-only step and of the whole training step
   (``tools/train.py``'s Runner, every hook, data on the device), their ratio and the host
   synchronisations per step, on ``configs/mocov2/mocov2_resnet18_1xb512-coslr-200e_cifar10-gpu.py``
   (CIFAR stem, 32 px, batch 512);
3. trains the fastest setting for as many epochs as fit in what is left of ``--budget-s``;
4. runs the k-NN benchmark on the trained checkpoint;
5. writes ``gpu_check.json`` and ``gpu_check.md`` (side by side with the published anchors)
   under ``--out`` (default ``$OUT``, else ``work_dirs/gpu_check``).

``--tiny`` runs every step on a CPU in well under a minute (tiny subset, a few iterations;
compile traced with the 'eager' backend instead of inductor), so the test suite keeps the
script working. See benchmarks/results/gpu/README.md.

Example::

    python benchmarks/scripts/gpu_check.py --budget-s 450 --out $OUT
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import os.path as osp
import sys
import tempfile
import time

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from gpu_probes.environment import (DEFAULT_SETTINGS, REPO_ROOT, SETTINGS, environment,  # noqa: E402
                                    find_data_root)
from gpu_probes.report import markdown  # noqa: E402

TINY_OPTIONS = ['train_dataloader.dataset.dataset.subset_size=64', 'model.queue_len=64',
                'model.bn_splits=4', 'model.backbone.cifar_stem=False']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data-root', help='CIFAR-10 (default: $MOCO_DATA_ROOT, ./shared/datasets/'
                                            'cifar10, ../shared/datasets/cifar10)')
    parser.add_argument('--out', help='folder for the summaries (default: $OUT, else '
                                      'work_dirs/gpu_check)')
    parser.add_argument('--budget-s', type=float, default=450.0,
                        help='wall-clock budget of the whole check; the epochs trained are chosen '
                             'to fit it (default 450)')
    parser.add_argument('--settings', nargs='+', default=DEFAULT_SETTINGS, choices=list(SETTINGS))
    parser.add_argument('--train-setting', choices=list(SETTINGS),
                        help='setting of the training run (default: the fastest whole step)')
    parser.add_argument('--epochs', type=int, help='train this many epochs instead of the budget\'s')
    parser.add_argument('--batch-size', type=int, default=512)
    parser.add_argument('--warmup', type=int, default=10, help='steps before the first window')
    parser.add_argument('--iters', type=int, default=20, help='steps per timed window')
    parser.add_argument('--windows', type=int, default=3, help='whole-step windows per setting')
    parser.add_argument('--no-fused', dest='fused', action='store_false',
                        help='plain instead of fused SGD')
    parser.add_argument('--tiny', action='store_true', help='CPU smoke run of every step (tests)')
    args = parser.parse_args(argv)
    args.data_root = find_data_root(args.data_root)
    args.out = args.out or os.environ.get('OUT') or osp.join(REPO_ROOT, 'work_dirs', 'gpu_check')
    args.tiny_options, args.tiny_monitor, args.tiny_benchmark = [], {}, []
    if args.tiny:
        args.batch_size = 16
        args.warmup, args.iters, args.windows = 1, 1, 1
        args.tiny_options = list(TINY_OPTIONS)
        args.tiny_monitor = dict(bank_size=64, query_size=32)
        args.tiny_benchmark = ['--subset-train', '64', '--subset-test', '32']
        args.epochs = min(args.epochs or 2, 2)
        if args.settings == DEFAULT_SETTINGS:  # the two ends cover every code path
            args.settings = ['fp32', 'bf16_cl_compile']
        args.train_setting = args.train_setting or 'fp32'  # no second tracing in the training run
    return args


def _targets(settings, training):
    measured = [r for r in settings if 'error' not in r]
    targets = {}
    if measured:
        best = max(measured, key=lambda r: r['whole_img_s'])
        targets['whole step >= 0.9 x model-only (fastest setting)'] = dict(
            value=f"{best['whole_over_model_only']:.3f} ({best['setting']})",
            met=best['whole_over_model_only'] >= 0.9)
    if training:
        seconds = training['projected_200_epochs_s']
        targets['200 epochs projected < 10 min'] = dict(value=f'{seconds / 60:.1f} min',
                                                       met=seconds < 600)
    return targets


def run(args) -> dict:
    from gpu_probes.step_probe import measure_setting
    from gpu_probes.training import choose_epochs, keep_logs, knn_benchmark, train_epochs

    import moco_plugin.datasets  # noqa: F401  (as tools/train.py: registers everything)
    import moco_plugin.engine  # noqa: F401
    import moco_plugin.models  # noqa: F401
    from moco_plugin.utils.atomic_io import atomic_write_text

    started = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    env = environment()
    print('environment: ' + ', '.join(f'{k}={v}' for k, v in env.items()), flush=True)
    if not torch.cuda.is_available() and not args.tiny:
        print('gpu_check.py: no CUDA device; the numbers below are CPU numbers (use --tiny for '
              'the smoke run)', flush=True)
    summary = dict(command='python benchmarks/scripts/gpu_check.py ' + ' '.join(sys.argv[1:]),
                   environment=env, tiny=args.tiny, budget_s=args.budget_s,
                   batch_size=args.batch_size, settings=[], data_root=args.data_root)
    with tempfile.TemporaryDirectory(prefix='gpu_check_') as work:
        for setting in args.settings:
            try:
                result = measure_setting(args, setting, osp.join(work, setting))
            except Exception as error:  # one setting failing (e.g. no compiler) is a result too
                result = dict(setting=setting, error=f'{type(error).__name__}: '
                                                     f'{str(error).splitlines()[0][:200] if str(error) else ""}')
            summary['settings'].append(result)
            print(f'[{time.perf_counter() - started:5.0f} s] {json.dumps(result)}', flush=True)
        measured = [r for r in summary['settings'] if 'error' not in r]
        train_images = summary['train_images'] = measured[0]['train_images'] if measured else 0
        training = None
        if measured:
            chosen = (next((r for r in measured if r['setting'] == args.train_setting), None)
                      if args.train_setting else max(measured, key=lambda r: r['whole_img_s']))
            chosen = chosen or max(measured, key=lambda r: r['whole_img_s'])
            left = args.budget_s - (time.perf_counter() - started)
            epochs = args.epochs or choose_epochs(
                left, chosen['whole_img_s'], train_images, startup_s=20 + chosen['first_step_s'],
                knn_reserve_s=60)
            summary['epochs_chosen_from'] = dict(time_left_s=round(left, 1), setting=chosen['setting'])
            if epochs >= 1:
                training = train_epochs(args, chosen['setting'], epochs, osp.join(work, 'train'))
                print(f'[{time.perf_counter() - started:5.0f} s] training: '
                      + json.dumps({k: v for k, v in training.items() if k != 'epoch_s'}), flush=True)
                summary['knn_benchmark'] = knn_benchmark(args, training, args.out)
                print(f'[{time.perf_counter() - started:5.0f} s] k-NN benchmark: '
                      f"{json.dumps(summary['knn_benchmark'])}", flush=True)
                summary['kept_files'] = keep_logs(osp.join(work, 'train'), args.out)
            else:
                summary['training_skipped'] = f'{left:.0f} s left, less than start-up + one epoch'
        else:
            summary['training_skipped'] = 'every setting failed'
        summary['training'] = training
    summary['targets'] = _targets(summary['settings'], training)
    summary['wall_s'] = round(time.perf_counter() - started, 1)
    summary['finished'] = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    atomic_write_text(json.dumps(summary, indent=1, default=str) + '\n',
                      osp.join(args.out, 'gpu_check.json'))
    text = markdown(summary)
    atomic_write_text(text, osp.join(args.out, 'gpu_check.md'))
    print(text, flush=True)
    return summary


def main(argv=None) -> dict:
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
