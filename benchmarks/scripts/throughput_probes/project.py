"""Phases (a) model-only step and (b) end-to-end ``tools/train.py``, alternating windows."""
from __future__ import annotations

import gc
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.hooks import Hook

from .memory import _minor_faults, peak_rss_mb, rss_mb
from .windows import summarise

class _ProbeDone(Exception):
    """Raised by the probe to end runner.train() after the last window."""


def _unwrap(model):
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def preprocessed_batches(runner, count: int) -> List[dict]:
    """The first ``count`` batches of the runner's loader, augmented and normalised by the
    model's own data preprocessor (the views of a model-only step)."""
    model = _unwrap(runner.model)
    batches = []
    for data in runner.train_dataloader:
        with torch.no_grad():
            batches.append(model.data_preprocessor(data, True))
        if len(batches) == count:
            break
    return batches


def make_model_only_step(runner, batches: List[dict]) -> Callable[[], None]:
    """One training step of ``runner``'s model without data loading or augmentation.

    Mirrors ``BaseModel.train_step`` (forward in ``optim_context``, loss
    parsing, ``update_params``) plus the per-iteration model work of the
    algorithm hooks (EMA of the key encoder, queue write), on pre-made views.
    """
    from moco_plugin.engine.hooks.queue_hook import find_queues

    model = _unwrap(runner.model)
    optim_wrapper = runner.optim_wrapper
    momentum = model.momentum_settings().get('momentum')  # the model owns its EMA (None: no pairs)
    queues = find_queues(model)
    state = dict(i=0)

    def step() -> None:
        train_one_step(model, optim_wrapper, batches[state['i'] % len(batches)], momentum, queues)
        state['i'] += 1
    return step


def train_one_step(model, optim_wrapper, data: dict, momentum: float, queues) -> None:
    """Forward in ``optim_context``, loss parsing, ``update_params``, then the algorithm
    hooks' per-iteration work (EMA of the target encoder, queue write) on preprocessed ``data``."""
    from moco_plugin.engine.hooks.momentum_update_hook import ema_update_

    with optim_wrapper.optim_context(model):
        losses = model(data['inputs'], data['data_samples'], mode='loss')
    loss, _ = model.parse_losses(losses)
    optim_wrapper.update_params(loss)
    for online, target in model.momentum_pairs():
        ema_update_(target, online, momentum)
    for queue in queues:
        queue.flush()


class ThroughputProbe(Hook):
    """Registered last in the Runner: alternates end-to-end and model-only windows.

    Order: model-only warm-up and window, then for each end-to-end window one
    more model-only window, ``a b a b ... b a``. Each window starts with one
    untimed iteration (so the switch between the two costs nothing), then
    times ``iters`` iterations. Each end-to-end window is compared with the
    mean of the model-only windows on both sides of it, so slow drifts of the
    machine's speed (other jobs on shared cores) cancel out of the ratio.
    The end-to-end side only records timestamps around the Runner's own
    iterations; after the last window it raises :class:`_ProbeDone`.
    """

    priority = 'LOWEST'

    def __init__(self, batch_size: int, warmup: int, iters: int, windows: int, pool: int = 4) -> None:
        self.batch_size, self.warmup, self.iters, self.windows = batch_size, warmup, iters, windows
        self.pool = pool
        self.step: Optional[Callable[[], None]] = None
        self.e2e_rates: List[float] = []
        self.model_only_rates: List[float] = []
        self.faults = dict(e2e=[], model_only=[])
        self.rss: Dict = dict(window_start=[])
        self.breakdown: Dict[str, List[float]] = dict(data_wait=[], preprocess=[], iteration=[])
        self._iter_start = 0.0
        self._done = 0
        self._window_start = (0.0, 0)

    def _rate(self, start: tuple, kind: str) -> float:
        seconds = time.perf_counter() - start[0]
        self.faults[kind].append((_minor_faults() - start[1]) / self.iters)
        return self.batch_size * self.iters / seconds

    def _model_only_window(self, warmup: int = 1) -> None:
        for _ in range(warmup):
            self.step()
        start = (time.perf_counter(), _minor_faults())
        for _ in range(self.iters):
            self.step()
        self.model_only_rates.append(self._rate(start, 'model_only'))

    def before_train(self, runner) -> None:
        # Views for (a): real batches, augmented and normalised by the same preprocessor.
        model = _unwrap(runner.model)
        self.step = make_model_only_step(runner, preprocessed_batches(runner, self.pool))
        self._model_only_window(warmup=self.warmup)
        gc.collect()
        # Time spent in the data preprocessor (conversion, augmentation, normalisation) per iteration.
        preprocess = model.data_preprocessor.forward
        spent = self.breakdown['preprocess']

        def timed_preprocess(*args, **kwargs):
            start = time.perf_counter()
            out = preprocess(*args, **kwargs)
            spent.append(time.perf_counter() - start)
            return out
        model.data_preprocessor.forward = timed_preprocess

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._iter_start = time.perf_counter()
        if self._done == 0:
            self.rss['start'] = (rss_mb(), rss_mb(with_children=True))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._done += 1
        self.breakdown['iteration'].append(time.perf_counter() - self._iter_start)
        self.breakdown['data_wait'].append(runner.message_hub.get_scalar('train/data_time').current())
        if self._done <= self.warmup:
            return
        position = (self._done - self.warmup - 1) % (self.iters + 1)  # 0: the untimed iteration
        if position == 0:
            self.rss['window_start'].append((rss_mb(), rss_mb(with_children=True)))
            self._window_start = (time.perf_counter(), _minor_faults())
        elif position == self.iters:
            self.e2e_rates.append(self._rate(self._window_start, 'e2e'))
            last = len(self.e2e_rates) == self.windows
            if last:
                self.rss['end'] = (rss_mb(), rss_mb(with_children=True))
                self.rss['main_process_peak_mb'] = peak_rss_mb()
            self._model_only_window()
            if last:
                raise _ProbeDone

    def paired_ratios(self) -> List[float]:
        """Each end-to-end window over the mean of the model-only windows around it."""
        return [e2e / ((self.model_only_rates[i] + self.model_only_rates[i + 1]) / 2)
                for i, e2e in enumerate(self.e2e_rates)]


def train_argv(args, work_dir: str) -> List[str]:
    """The ``tools/train.py`` command line that phase (b) runs."""
    argv = [args.config, '--work-dir', work_dir]
    if args.amp:
        argv.append('--amp')
    if args.data_root:
        argv += ['--data-root', args.data_root]
    options = [f'train_dataloader.batch_size={args.batch_size}',
               f'model.backbone.cifar_stem={args.cifar_stem}',
               # No checkpoint in a benchmark window (the first one is written after 10 epochs anyway).
               'default_hooks.checkpoint.interval=1000000']
    if args.channels_last:
        options.append('model.data_preprocessor.channels_last=True')
    if args.num_workers is not None:
        options.append(f'train_dataloader.num_workers={args.num_workers}')
    options += args.cfg_options
    return argv + ['--cfg-options', *options]


def run_project(args) -> Dict:
    """Phases (a) and (b): build the config as tools/train.py does and train through the Runner."""
    import moco_plugin.datasets  # noqa: F401  (as moco_plugin.cli.train.main does)
    import moco_plugin.engine  # noqa: F401
    import moco_plugin.models  # noqa: F401
    from mmengine.runner import Runner

    from moco_plugin.cli.train import build_config, parse_args

    with tempfile.TemporaryDirectory(prefix='moco_throughput_') as work_dir:
        argv = train_argv(args, work_dir)
        cfg = build_config(parse_args(argv))
        probe = ThroughputProbe(args.batch_size, args.warmup, args.iters, args.windows)
        runner = Runner.from_cfg(cfg)
        runner.register_hook(probe, priority='LOWEST')
        try:
            runner.train()
        except _ProbeDone:
            pass
        shown = [a if a != work_dir else '<tmp work dir>' for a in argv]
        result = dict(command='python tools/train.py ' + ' '.join(shown),
                      e2e=summarise(probe.e2e_rates, statistics.mean(probe.faults['e2e'])),
                      model_only=summarise(probe.model_only_rates,
                                           statistics.mean(probe.faults['model_only'])),
                      paired_ratios=probe.paired_ratios(), rss=probe.rss,
                      breakdown_ms={k: round(1e3 * statistics.median(v[args.warmup:]), 1)
                                    for k, v in probe.breakdown.items()})
        del runner
        gc.collect()
    return result
