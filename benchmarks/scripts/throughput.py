#!/usr/bin/env python
"""Pretraining throughput: model-only step vs end-to-end vs a loop built from lightly's parts.

One run measures, on the same machine and in the same process:

(a) **model-only**: the project's MoCo training step (forward, backward, SGD
    step, EMA of the key encoder, queue write) on views that are already
    augmented, normalised and in memory: the compute limit of the loop.
(b) **end-to-end**: ``tools/train.py``'s code path (``moco_plugin.cli.train``'s
    argument parsing and ``build_config``, MMEngine ``Runner.from_cfg`` and
    ``runner.train()`` with every default hook) on the real CIFAR-10 JPEG
    folder; a probe hook only records timestamps and stops the run.
(c) **lightly**: the same model written with lightly's components:
    ``MoCoV2Transform`` (per-image PIL augmentation) in DataLoader workers over
    the same JPEG folder, torchvision ResNet-18, ``MoCoProjectionHead``,
    ``NTXentLoss(memory_bank_size=(4096, 128))`` and ``update_momentum``.

Each phase has a warm-up, then several timed windows of consecutive
iterations; a window's rate is images / wall time, and the median window is
reported. The (a) and (b) windows alternate (``a b a ... b a``, see
:class:`ThroughputProbe`) and ``e2e_over_model_only`` is the median over the
(b) windows of (b) / mean of its two neighbouring (a) windows, so a drift of
the machine's speed (other jobs on shared cores) cancels out of the ratio.
The last line of the output is one JSON object.

Example::

    python benchmarks/scripts/throughput.py                 # fp32, ImageNet stem, batch 256
    python benchmarks/scripts/throughput.py --amp           # bf16 autocast on CPU (fp16 on GPU)
    python benchmarks/scripts/throughput.py --channels-last --windows 8 --iters 10
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import platform
import statistics
import sys
import time
from typing import Dict, Optional

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from throughput_probes.lightly_loop import run_lightly  # noqa: E402
from throughput_probes.project import run_project  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'mocov2',
                          'mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='project config for (a) and (b)')
    parser.add_argument('--data-root', default=None,
                        help='CIFAR-10 folder with train/<class>/*.jpg (default: $MOCO_DATA_ROOT, '
                             'else ../shared/datasets/cifar10)')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--warmup', type=int, default=5, help='iterations before the first window')
    parser.add_argument('--iters', type=int, default=8, help='iterations per timed window')
    parser.add_argument('--windows', type=int, default=6, help='timed windows per phase')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast on CPU (fp16 with loss scaling on GPU), as tools/train.py --amp; '
                             'the lightly loop gets the same autocast')
    parser.add_argument('--channels-last', action='store_true', help='channels_last inputs (and lightly model)')
    parser.add_argument('--cifar-stem', action='store_true',
                        help='3x3 stride-1 stem without max-pool (16x the FLOPs at 32 px); default is '
                             'the ImageNet stem, as in the issue')
    parser.add_argument('--num-workers', type=int, default=None, help="override the config's loader workers")
    parser.add_argument('--lightly-workers', type=int, default=2)
    parser.add_argument('--skip-lightly', action='store_true')
    parser.add_argument('--cfg-options', nargs='*', default=[], help='extra key=value config overrides')
    return parser.parse_args(argv)


def find_data_root(explicit: Optional[str]) -> str:
    for candidate in (explicit, os.environ.get('MOCO_DATA_ROOT'),
                      osp.join(osp.dirname(REPO_ROOT), 'shared', 'datasets', 'cifar10')):
        if candidate and osp.isdir(osp.join(candidate, 'train')):
            return candidate
    raise SystemExit('throughput.py: CIFAR-10 image folders not found; pass --data-root DIR '
                     '(DIR/train/<class>/*.jpg) or set MOCO_DATA_ROOT')


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as handle:
            cpu = next((l.split(':', 1)[1].strip() for l in handle if l.startswith('model name')), cpu)
    except OSError:
        pass
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'
    return (f'{cpu}, {os.cpu_count()} cores, torch {torch.__version__} '
            f'({torch.get_num_threads()} threads), {device}')


def main(argv=None) -> Dict:
    args = parse_args(argv)
    args.data_root = find_data_root(args.data_root)
    started = time.perf_counter()
    result = run_project(args)
    if not args.skip_lightly:
        result.update(run_lightly(args, args.data_root))
    model_only = result['model_only']['median']
    e2e = result['e2e']['median']
    lightly = result['lightly']['median'] if 'lightly' in result else None
    precision = ('bf16 autocast' if not torch.cuda.is_available() else 'fp16 AMP') if args.amp else 'fp32'
    rows = [('(a) model-only step (project)', result['model_only']),
            ('(b) end-to-end tools/train.py', result['e2e'])]
    if 'lightly' in result:
        rows.append(('(c) lightly-built loop', result['lightly']))
    print()
    print(f'machine: {machine()}')
    print(f'setting: ResNet-18 ({"CIFAR" if args.cifar_stem else "ImageNet"} stem), batch {args.batch_size}, '
          f'{precision}{", channels_last" if args.channels_last else ""}; warm-up {args.warmup} it, '
          f'{args.windows} windows x {args.iters} it')
    print(f'(b) runs: {result["command"]}')
    print(f'{"phase":34s} {"median img/s":>12s} {"min":>8s} {"max":>8s} {"faults/it":>9s}   '
          'windows in run order')
    for name, stats in rows:
        print(f'{name:34s} {stats["median"]:12.1f} {stats["min"]:8.1f} {stats["max"]:8.1f} '
              f'{stats["faults_per_iter"]:9d}   ' + ' '.join(f'{r:.0f}' for r in stats['windows']))
    rss = result['rss']
    over_lightly = round(e2e / lightly, 2) if lightly else None
    # Each e2e window over the model-only windows just before and after it: drift cancels.
    paired = statistics.median(result['paired_ratios'])
    print(f'e2e/model-only {paired:.3f} (median of paired windows: '
          + ' '.join(f'{r:.2f}' for r in result['paired_ratios'])
          + f'; ratio of medians {e2e / model_only:.3f})   e2e/lightly {over_lightly}   '
          f'total {time.perf_counter() - started:.0f} s')
    parts = result['breakdown_ms']
    print(f'(b) per iteration, median ms: waiting for the loader {parts["data_wait"]}, data '
          f'preprocessor (uint8->float, augmentation, normalisation) {parts["preprocess"]}, '
          f'from iteration start to the last hook {parts["iteration"]} (model-only step: '
          f'{1e3 * args.batch_size / model_only:.0f})')
    points = [rss['start'], *rss['window_start'], rss['end']]
    print('memory during (b), MiB, at its start / each window start / its end: main-process RSS '
          + ' '.join(f'{main:.0f}' for main, _ in points) + '; with loader workers (PSS) '
          + ' '.join(f'{total:.0f}' for _, total in points)
          + f'; main-process peak {rss["main_process_peak_mb"]:.0f}')
    summary = dict(
        model_only_img_s=round(model_only, 1), e2e_img_s=round(e2e, 1),
        lightly_img_s=round(lightly, 1) if lightly else None,
        e2e_over_model_only=round(paired, 3), e2e_over_lightly=over_lightly,
        e2e_over_model_only_of_medians=round(e2e / model_only, 3),
        e2e_breakdown_ms=result['breakdown_ms'],
        window_img_s=dict(model_only=result['model_only']['windows'], e2e=result['e2e']['windows'],
                          lightly=result['lightly']['windows'] if lightly else None),
        page_faults_per_iter=dict(model_only=result['model_only']['faults_per_iter'],
                                  e2e=result['e2e']['faults_per_iter'],
                                  lightly=result['lightly']['faults_per_iter'] if lightly else None),
        peak_rss_mb=round(rss['main_process_peak_mb'], 1),
        rss_e2e_start_mb=round(rss['start'][0], 1), rss_e2e_end_mb=round(rss['end'][0], 1),
        rss_with_workers_e2e_start_mb=round(rss['start'][1], 1),
        rss_with_workers_e2e_end_mb=round(rss['end'][1], 1),
        lightly_peak_rss_mb=round(result['lightly_peak_rss_mb'], 1) if lightly else None,
        precision=precision, channels_last=args.channels_last, cifar_stem=args.cifar_stem,
        batch_size=args.batch_size, windows=args.windows, iters_per_window=args.iters,
        config=osp.relpath(args.config, REPO_ROOT), machine=machine(),
        wall_s=round(time.perf_counter() - started, 1))
    print(json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
