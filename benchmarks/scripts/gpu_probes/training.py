"""Train the GPU config for N epochs through tools/train.py's Runner, then the k-NN benchmark."""
from __future__ import annotations

import glob
import json
import os.path as osp
import shutil
import time
from typing import Dict, List

import torch
from mmengine.hooks import Hook

from .environment import sync
from .step_probe import build_cfg


class EpochClock(Hook):
    """Wall time of each epoch (after a device synchronisation), k-NN monitor time included."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.epoch_s: List[float] = []
        self._last = 0.0

    def before_train(self, runner) -> None:
        sync()
        self._last = time.perf_counter()

    def after_train_epoch(self, runner) -> None:
        sync()
        now = time.perf_counter()
        self.epoch_s.append(now - self._last)
        self._last = now


def choose_epochs(time_left_s: float, whole_img_s: float, train_images: int, startup_s: float,
                  knn_reserve_s: float, max_epochs: int = 200) -> int:
    """As many epochs as fit in ``time_left_s`` after start-up and the k-NN benchmark (10 % margin
    on each epoch for the k-NN monitor and the loader); 0 when not even one does."""
    epoch_s = 1.1 * train_images / whole_img_s
    return max(0, min(max_epochs, int((time_left_s - startup_s - knn_reserve_s) // epoch_s)))


def train_epochs(args, setting: str, epochs: int, work_dir: str) -> Dict:
    """``epochs`` epochs of the config (cosine schedule over those epochs), timed per epoch."""
    from mmengine.runner import Runner

    started = time.perf_counter()
    monitor_interval = max(1, min(10, epochs // 2 or 1))
    cfg = build_cfg(args, setting, work_dir, [
        f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.T_max={epochs}',
        f'param_scheduler.0.end={epochs}', f'default_hooks.checkpoint.interval={epochs}',
        'default_hooks.checkpoint.max_keep_ckpts=1'])
    for hook in cfg.custom_hooks:
        if hook['type'] == 'KNNMonitorHook':
            hook.update(interval=monitor_interval, plot=True, **args.tiny_monitor)
    clock = EpochClock()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(clock, priority='LOWEST')
    images = len(runner.train_dataloader) * args.batch_size
    runner.train()
    monitor = next(h for h in runner.hooks if type(h).__name__ == 'KNNMonitorHook')
    steady = clock.epoch_s[1:] or clock.epoch_s
    result = dict(
        setting=setting, epochs=epochs, images_per_epoch=images,
        wall_s=round(time.perf_counter() - started, 1),
        start_up_s=round(time.perf_counter() - started - sum(clock.epoch_s), 1),
        first_epoch_s=round(clock.epoch_s[0], 2),
        epoch_s_median=round(sorted(steady)[len(steady) // 2], 2),
        epoch_s_mean=round(sum(steady) / len(steady), 2),
        epoch_s=[round(t, 2) for t in clock.epoch_s],
        train_img_s=round(images * len(steady) / sum(steady), 1),
        knn_monitor=monitor.history, monitor_interval=monitor_interval,
        checkpoint=osp.join(work_dir, f'epoch_{epochs}.pth'),
        config_dump=osp.join(work_dir, osp.basename(cfg.filename)))
    # the 200-epoch projection: start-up and first epoch (compilation) once, then steady epochs
    result['projected_200_epochs_s'] = round(
        result['start_up_s'] + clock.epoch_s[0] + 199 * result['epoch_s_mean'], 1)
    del runner
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def knn_benchmark(args, trained: Dict, out_dir: str) -> Dict:
    """The project's k-NN benchmark (``tools/benchmark_linear.py --knn``: whole train split as the
    bank, whole test split, k=200, T=0.1) on the trained checkpoint; on a GPU it runs the torch
    k-NN there."""
    from moco_plugin.cli.benchmark import main as benchmark

    out = osp.join(out_dir, 'knn_benchmark.json')
    argv = [trained['config_dump'], trained['checkpoint'], '--knn', '--data-root', args.data_root,
            '--out', out, '--markdown', osp.join(out_dir, 'knn_benchmark.md'), '--num-workers', '0',
            '--batch-size', '512', '--quiet', '--no-cache', *args.tiny_benchmark]
    started = time.perf_counter()
    try:
        benchmark(argv)
    except SystemExit as error:  # run_cli exits with a one-line message on a failure
        if error.code:
            return dict(error=f'benchmark exited with {error.code}', argv=argv)
    with open(out) as handle:
        result = json.load(handle)
    knn = result.get('knn', {}).get('200') or next(iter(result.get('knn', {}).values()), {})
    return dict(top1=knn.get('top1'), top5=knn.get('top5'), k_used=knn.get('k_used'),
                wall_s=round(time.perf_counter() - started, 1),
                command='python tools/benchmark_linear.py ' + ' '.join(argv))


def keep_logs(work_dir: str, out_dir: str) -> List[str]:
    """Copy the training log and the k-NN curve next to the summaries (not the checkpoint)."""
    kept = []
    for pattern, name in (('*/*.log', 'train.log'), ('knn_curve.png', 'knn_curve.png')):
        found = sorted(glob.glob(osp.join(work_dir, pattern)))
        if found:
            shutil.copyfile(found[-1], osp.join(out_dir, name))
            kept.append(name)
    return kept
