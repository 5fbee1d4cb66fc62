"""Model-only step vs whole training step (tools/train.py's Runner) for one setting."""
from __future__ import annotations

import gc
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook

from .environment import CONFIG, SETTINGS, SyncCounter, sync

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # benchmarks/scripts/
from throughput_probes.project import make_model_only_step, preprocessed_batches  # noqa: E402


class ProbeDone(Exception):
    """Raised by a probe to end ``runner.train()`` once it has what it measures."""


def build_cfg(args, setting: str, work_dir: str, extra_options: Optional[List[str]] = None):
    """The config as ``tools/train.py CONFIG --data-root ... --cfg-options ...`` builds it, then
    switched to ``setting`` (precision, channels_last, compile)."""
    from moco_plugin.cli.train import build_config, parse_args

    options = [f'train_dataloader.batch_size={args.batch_size}', *args.tiny_options,
               *(extra_options or [])]
    cfg = build_config(parse_args([CONFIG, '--work-dir', work_dir, '--data-root', args.data_root,
                                   '--cfg-options', *options]))
    chosen = SETTINGS[setting]
    optimizer = dict(cfg.optim_wrapper.optimizer, fused=args.fused)
    cfg.optim_wrapper = (dict(type='OptimWrapper', optimizer=optimizer) if chosen['precision'] == 'fp32'
                         else dict(type='AutocastOptimWrapper', dtype='bfloat16', optimizer=optimizer))
    on_cpu = not torch.cuda.is_available()
    # On a CPU (--tiny) inductor would compile for minutes: the encoders are traced with the
    # 'eager' backend instead (same hook, same wrapping) and the augmentation runs eagerly.
    cfg.model.data_preprocessor.batch_augment.compile = chosen['compile'] and not on_cpu
    for hook in cfg.custom_hooks:
        if hook['type'] == 'FastPathHook':
            hook.update(channels_last=chosen['channels_last'], compile=chosen['compile'],
                        compile_backend='eager' if on_cpu else 'inductor')
    cfg.experiment_name = f'gpu_check_{setting}_{time.time_ns()}'
    return cfg


class StepProbe(Hook):
    """Registered last: model-only windows (pre-made views) alternating with whole-step windows.

    ``a b a b ... b a``; each window is ``iters`` steps between two device
    synchronisations, and the whole-step side only takes timestamps around the
    Runner's own iterations. After the last window, ``iters + 1`` more whole steps
    run with CUDA's synchronisation warnings counted, then :class:`ProbeDone`.
    """

    priority = 'LOWEST'

    def __init__(self, batch_size: int, warmup: int, iters: int, windows: int, pool: int = 4) -> None:
        self.batch_size, self.warmup, self.iters, self.windows, self.pool = (batch_size, warmup,
                                                                             iters, windows, pool)
        self.model_only: List[float] = []
        self.whole: List[float] = []
        self.first_step_s = 0.0
        self.syncs: Optional[Dict] = None
        self._done = 0
        self._start = 0.0
        self._counter = SyncCounter()

    def _window(self, step) -> None:
        sync()
        start = time.perf_counter()
        for _ in range(self.iters):
            step()
        sync()
        self.model_only.append(self.batch_size * self.iters / (time.perf_counter() - start))

    def before_train(self, runner) -> None:
        self.step = make_model_only_step(runner, preprocessed_batches(runner, self.pool))
        start = time.perf_counter()
        self.step()  # compiles, when the setting compiles
        sync()
        self.first_step_s = time.perf_counter() - start
        for _ in range(self.warmup):
            self.step()
        self._window(self.step)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._done += 1
        if self._done <= self.warmup:
            return
        position = (self._done - self.warmup - 1) % (self.iters + 1)  # 0: untimed, then iters
        if len(self.whole) == self.windows:  # the counted window
            if position == self.iters:
                self.syncs = self._counter.stop()
                raise ProbeDone
            return
        if position == 0:
            sync()
            self._start = time.perf_counter()
        elif position == self.iters:
            sync()
            self.whole.append(self.batch_size * self.iters / (time.perf_counter() - self._start))
            self._window(self.step)
            if len(self.whole) == self.windows:
                if not torch.cuda.is_available():
                    raise ProbeDone  # nothing to count on a CPU
                self._counter.start()  # from the next iteration's untimed step on

    def paired_ratios(self) -> List[float]:
        return [w / ((self.model_only[i] + self.model_only[i + 1]) / 2)
                for i, w in enumerate(self.whole)]


def measure_setting(args, setting: str, work_dir: str) -> Dict:
    """Build tools/train.py's Runner for ``setting`` and measure both steps in it."""
    from mmengine.runner import Runner

    started = time.perf_counter()
    cfg = build_cfg(args, setting, work_dir, ['default_hooks.checkpoint.interval=1000000'])
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] != 'KNNMonitorHook']
    cfg.log_level = 'WARNING'  # the training run's log is the one kept
    probe = StepProbe(args.batch_size, args.warmup, args.iters, args.windows)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(probe, priority='LOWEST')
    try:
        runner.train()
    except ProbeDone:
        pass
    ratios = probe.paired_ratios()
    result = dict(
        setting=setting, **SETTINGS[setting], fused=args.fused,
        train_images=len(runner.train_dataloader) * args.batch_size,
        model_only_img_s=round(statistics.median(probe.model_only), 1),
        whole_img_s=round(statistics.median(probe.whole), 1),
        whole_over_model_only=round(statistics.median(ratios), 3),
        windows=dict(model_only=[round(r, 1) for r in probe.model_only],
                     whole=[round(r, 1) for r in probe.whole]),
        first_step_s=round(probe.first_step_s, 1), syncs_per_step=(
            None if probe.syncs is None else round(probe.syncs['count'] / (args.iters + 1), 2)),
        sync_sites=None if probe.syncs is None else probe.syncs['where'],
        peak_gpu_mem_gib=(round(torch.cuda.max_memory_allocated() / 2**30, 2)
                          if torch.cuda.is_available() else None),
        wall_s=round(time.perf_counter() - started, 1))
    del runner, probe
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result
