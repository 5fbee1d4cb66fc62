#!/usr/bin/env python
"""The main job's training step under each speed switch, side by side in one process.

For the README's main-job config (MoCo v2, ResNet-18 ImageNet stem at 32 px, batch 64,
AdamW, K=4096) this builds one model per setting from the same seed and times the whole
per-iteration compute of ``tools/train.py`` (batched augmentation on the uint8 views,
forward, backward, AdamW step, EMA of the key encoder, queue write) on the same real
CIFAR-10 batches. The settings' windows alternate round-robin (``A B C ... A B C ...``) so
that a drift of the machine's speed (other jobs on shared cores) hits every setting alike;
the table reports each setting's median window, its ratio to the first setting (fp32) and
the median of the per-round ratios ("paired", robust to drift).

Settings (``--settings``, comma separated):

* ``fp32``: the default (augmentation compiled, as the config sets it);
* ``bf16``: bf16 autocast of the forward pass (``AutocastOptimWrapper``, ``--precision bf16``);
* ``fp32-compile`` / ``bf16-compile``: the query and key encoders (backbone, neck) through
  ``torch.compile`` as well;
* ``fp32-eager-aug``: the augmentation not compiled;
* ``fp32-channels-last``: views and weights in ``channels_last``.

Run it once per kind of CPU; ``--emulate-avx2`` re-runs this script with torch's AVX2
kernels and oneDNN capped at AVX2 (``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2``: the
first alone leaves oneDNN's native bf16 convolutions on), which is what a CPU without
AVX-512 BF16 runs::

    python benchmarks/scripts/precision_speed.py --out native.json
    python benchmarks/scripts/precision_speed.py --emulate-avx2 --iters 2 --windows 3 --out avx2.json
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # throughput_probes
MAIN_JOB = 'mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu'
ALL_SETTINGS = ('fp32', 'bf16', 'fp32-compile', 'bf16-compile', 'fp32-eager-aug',
                'fp32-channels-last')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--config', default=MAIN_JOB, help='config file or packaged name')
    parser.add_argument('--data-root', help='CIFAR-10 folder (default: $MOCO_DATA_ROOT)')
    parser.add_argument('--settings', default=','.join(ALL_SETTINGS))
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps per setting')
    parser.add_argument('--iters', type=int, default=4, help='steps per timed window')
    parser.add_argument('--windows', type=int, default=4, help='timed windows per setting')
    parser.add_argument('--batches', type=int, default=4, help='real batches, cycled')
    parser.add_argument('--image-size', type=int,
                        help="side of the training views (the config's batch_augment.size, 32)")
    parser.add_argument('--batch-size', type=int, help="images per step (the config's, 64)")
    parser.add_argument('--emulate-avx2', action='store_true',
                        help='re-run with ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2')
    parser.add_argument('--out', help='write the JSON summary here too')
    return parser.parse_args(argv)


def build_step(cfg, setting: str, batches: List[dict]) -> Callable[[], None]:
    """One training iteration of the main job's model under ``setting``, cycling ``batches``."""
    import torch
    from mmengine.optim import build_optim_wrapper

    from moco_plugin.engine.hooks.queue_hook import find_queues
    from throughput_probes.project import train_one_step
    from moco_plugin.registry import MODELS

    model_cfg = copy.deepcopy(cfg.model)
    if setting == 'fp32-eager-aug':
        model_cfg.data_preprocessor.batch_augment.compile = False
    if setting == 'fp32-channels-last':
        model_cfg.data_preprocessor.channels_last = True
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).train()
    model.declare_training_hooks('MomentumUpdateHook', 'QueueHook')  # this loop does their work
    if setting == 'fp32-channels-last':
        model = model.to(memory_format=torch.channels_last)
    if setting.endswith('-compile'):
        for module in (model.backbone, model.neck, model.key_backbone, model.key_neck):
            module.compile(dynamic=False)
    wrapper_cfg = copy.deepcopy(cfg.optim_wrapper)
    if setting.startswith('bf16'):
        wrapper_cfg.update(type='AutocastOptimWrapper', dtype='bfloat16')
    optim_wrapper = build_optim_wrapper(model, wrapper_cfg)
    queues = find_queues(model)
    state = dict(i=0)

    def step() -> None:  # the augmentation runs inside the step, as in tools/train.py
        data = model.data_preprocessor(batches[state['i'] % len(batches)], True)
        state['i'] += 1
        train_one_step(model, optim_wrapper, data, 0.99, queues)
    return step


def measure(args: argparse.Namespace) -> Dict:
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from torch.utils.data import default_collate

    import moco_plugin.datasets  # noqa: F401  (registers the components)
    import moco_plugin.engine  # noqa: F401
    import moco_plugin.models  # noqa: F401
    from moco_plugin.cli.train import set_data_root
    from moco_plugin.registry import DATASETS
    from moco_plugin.utils.config_files import find_config
    from moco_plugin.utils.device_precision import cpu_precision_report

    settings = [s for s in args.settings.split(',') if s]
    unknown = sorted(set(settings) - set(ALL_SETTINGS))
    if unknown:
        raise SystemExit(f'unknown settings {unknown}; choose from {", ".join(ALL_SETTINGS)}')
    init_default_scope('moco_plugin')  # AutocastOptimWrapper and the models by their names
    cfg = Config.fromfile(str(find_config(args.config)))
    data_root = args.data_root or os.environ.get('MOCO_DATA_ROOT')
    if data_root:
        set_data_root(cfg, data_root)
    if args.image_size:
        cfg.model.data_preprocessor.batch_augment.size = args.image_size
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    loader_cfg = cfg.train_dataloader
    # only these images are used: decode just them (a class-balanced subset)
    loader_cfg.dataset.subset_size = loader_cfg.batch_size * args.batches
    dataset = DATASETS.build(loader_cfg.dataset)
    size = loader_cfg.batch_size
    batches = [default_collate([dataset[b * size + i] for i in range(size)])
               for b in range(args.batches)]
    steps, setup_s = {}, {}
    for setting in settings:
        tick = time.perf_counter()
        steps[setting] = build_step(cfg, setting, batches)
        for _ in range(args.warmup):  # the first steps compile where a setting compiles
            steps[setting]()
        setup_s[setting] = round(time.perf_counter() - tick, 1)
        print(f'{setting}: built and warmed up in {setup_s[setting]} s', file=sys.stderr, flush=True)
    rates: Dict[str, List[float]] = {s: [] for s in settings}
    for _ in range(args.windows):
        for setting in settings:
            tick = time.perf_counter()
            for _ in range(args.iters):
                steps[setting]()
            rates[setting].append(size * args.iters / (time.perf_counter() - tick))
    base = statistics.median(rates[settings[0]])
    # Each round holds one window of every setting, back to back: the per-round ratio to the
    # first setting cancels the machine's drift between rounds.
    paired = {s: statistics.median(r / b for r, b in zip(rates[s], rates[settings[0]]))
              for s in settings}
    return dict(
        config=args.config, batch_size=size,
        image_size=cfg.model.data_preprocessor.batch_augment.size, warmup=args.warmup, iters=args.iters,
        windows=args.windows, torch=torch.__version__, threads=torch.get_num_threads(),
        cpu=cpu_precision_report(),
        env={k: os.environ.get(k) for k in ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA',
                                            'OMP_NUM_THREADS')},
        results={s: dict(median_img_s=round(statistics.median(r), 1),
                         windows=[round(x, 1) for x in r],
                         over_first=round(statistics.median(r) / base, 3),
                         paired_over_first=round(paired[s], 3),
                         setup_and_warmup_s=setup_s[s]) for s, r in rates.items()})


def print_table(summary: Dict) -> None:
    cpu = summary['cpu']
    print(f"capability {cpu['aten_capability']}, oneDNN bf16 {cpu['onednn_bf16']}, "
          f"threads {summary['threads']}, batch {summary['batch_size']}, "
          f"{summary['windows']} windows x {summary['iters']} steps")
    print(f"{'setting':<20} {'img/s':>8} {'s/iter':>8} {'ratio':>7} {'paired':>7}  windows (img/s)")
    for name, row in summary['results'].items():
        print(f"{name:<20} {row['median_img_s']:>8} "
              f"{summary['batch_size'] / row['median_img_s']:>8.3f} {row['over_first']:>7} "
              f"{row['paired_over_first']:>7}  {row['windows']}")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.emulate_avx2:
        env = dict(os.environ, ATEN_CPU_CAPABILITY='avx2', ONEDNN_MAX_CPU_ISA='AVX2')
        argv = [a for a in (argv if argv is not None else sys.argv[1:]) if a != '--emulate-avx2']
        sys.exit(subprocess.call([sys.executable, osp.abspath(__file__), *argv], env=env))
    summary = measure(args)
    print_table(summary)
    print(json.dumps(summary))
    if args.out:
        from moco_plugin.utils.atomic_io import atomic_write_text
        atomic_write_text(json.dumps(summary, indent=1) + '\n', args.out)


if __name__ == '__main__':
    main()
