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

    python benchmarks/throughput.py                 # fp32, ImageNet stem, batch 256
    python benchmarks/throughput.py --amp           # bf16 autocast on CPU (fp16 on GPU)
    python benchmarks/throughput.py --channels-last --windows 8 --iters 10
"""
from __future__ import annotations

import argparse
import copy
import gc
import glob
import json
import os
import os.path as osp
import platform
import resource
import statistics
import tempfile
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.hooks import Hook

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'mocov2',
                          'mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py')


# --- measurement helpers ------------------------------------------------------------------
def _status_kb(pid: str, key: str) -> int:
    try:
        with open(f'/proc/{pid}/status') as handle:
            for line in handle:
                if line.startswith(key + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _child_pids() -> List[str]:
    pids: List[str] = []
    for path in glob.glob('/proc/self/task/*/children'):
        try:
            with open(path) as handle:
                pids += handle.read().split()
        except OSError:
            pass
    return pids


def _pss_kb(pid: str) -> int:
    """Proportional set size: shared pages are split between the processes sharing them."""
    try:
        with open(f'/proc/{pid}/smaps_rollup') as handle:
            for line in handle:
                if line.startswith('Pss:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return _status_kb(pid, 'VmRSS')


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def rss_mb(with_children: bool = False) -> float:
    """Resident memory in MiB: this process's RSS, or with its live children (loader workers)
    the sum of their proportional set sizes, so pages a forked worker shares count once."""
    if not with_children:
        return _status_kb('self', 'VmRSS') / 1024
    return sum(_pss_kb(pid) for pid in ['self', *_child_pids()]) / 1024


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory since start or :func:`reset_peak_rss`."""
    return _status_kb('self', 'VmHWM') / 1024


def reset_peak_rss() -> None:
    try:  # Linux: writing 5 to clear_refs resets VmHWM to the current RSS
        with open('/proc/self/clear_refs', 'w') as handle:
            handle.write('5')
    except OSError:
        pass


class WindowTimer:
    """Timestamps of consecutive iterations -> per-window throughput (phase (c)).

    Args:
        batch_size: Images per iteration.
        warmup: Iterations ignored at the start.
        iters: Iterations per timed window.
        windows: Number of windows.
    """

    def __init__(self, batch_size: int, warmup: int, iters: int, windows: int) -> None:
        self.batch_size, self.warmup, self.iters, self.windows = batch_size, warmup, iters, windows
        self.stamps: List[float] = []
        self.faults: List[int] = []  # minor page faults of this process, at the same moments

    @property
    def total_iters(self) -> int:
        return self.warmup + self.iters * self.windows

    def start(self) -> None:
        self.stamps = [time.perf_counter()]
        self.faults = [_minor_faults()]

    def tick(self) -> bool:
        """Record the end of an iteration; True once all windows are complete."""
        self.stamps.append(time.perf_counter())
        self.faults.append(_minor_faults())
        return len(self.stamps) - 1 >= self.total_iters

    def faults_per_iter(self) -> float:
        """Minor page faults per timed iteration (fresh memory pages the step had to touch)."""
        first = min(self.warmup, len(self.faults) - 1)
        iters = len(self.faults) - 1 - first
        return (self.faults[-1] - self.faults[first]) / iters if iters > 0 else float('nan')

    def rates(self) -> List[float]:
        out = []
        for w in range(self.windows):
            first = self.warmup + w * self.iters
            last = first + self.iters
            if last < len(self.stamps):
                out.append(self.batch_size * self.iters / (self.stamps[last] - self.stamps[first]))
        return out


def summarise(rates: List[float], faults_per_iter: float = float('nan')) -> Dict:
    return dict(median=statistics.median(rates), min=min(rates), max=max(rates),
                windows=[round(r, 1) for r in rates], faults_per_iter=round(faults_per_iter))


# --- (a) + (b): the project ----------------------------------------------------------------
class _ProbeDone(Exception):
    """Raised by the probe to end runner.train() after the last window."""


def _unwrap(model):
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def make_model_only_step(runner, batches: List[dict]) -> Callable[[], None]:
    """One training step of ``runner``'s model without data loading or augmentation.

    Mirrors ``BaseModel.train_step`` (forward in ``optim_context``, loss
    parsing, ``update_params``) plus the per-iteration model work of the
    algorithm hooks (EMA of the key encoder, queue write), on pre-made views.
    """
    from moco_plugin.engine.hooks.momentum_update_hook import ema_update_
    from moco_plugin.engine.hooks.queue_hook import find_queues

    model = _unwrap(runner.model)
    optim_wrapper = runner.optim_wrapper
    momentum = next((h.momentum for h in runner.hooks if hasattr(h, 'current_momentum')), 0.99)
    queues = find_queues(model)
    state = dict(i=0)

    def step() -> None:
        data = batches[state['i'] % len(batches)]
        state['i'] += 1
        with optim_wrapper.optim_context(model):
            losses = model(data['inputs'], data['data_samples'], mode='loss')
        loss, _ = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
        for online, target in model.momentum_pairs():
            ema_update_(target, online, momentum)
        for queue in queues:
            queue.flush()
    return step


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
        batches = []
        for data in runner.train_dataloader:
            with torch.no_grad():
                batches.append(model.data_preprocessor(data, True))
            if len(batches) == self.pool:
                break
        self.step = make_model_only_step(runner, batches)
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


# --- (c): lightly ----------------------------------------------------------------------------
def run_lightly(args, data_root: str) -> Dict:
    """Phase (c): a MoCo v2 loop written from lightly's components."""
    import torchvision
    from lightly.data import LightlyDataset
    from lightly.loss import NTXentLoss
    from lightly.models.modules import MoCoProjectionHead
    from lightly.models.utils import deactivate_requires_grad, update_momentum
    from lightly.transforms import MoCoV2Transform
    from torch import nn

    torch.manual_seed(0)
    resnet = torchvision.models.resnet18()
    if args.cifar_stem:  # same stem as the project's ResNet(cifar_stem=True)
        resnet.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        resnet.maxpool = nn.Identity()
    backbone = nn.Sequential(*list(resnet.children())[:-1])

    class LightlyMoCo(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = backbone
            self.projection_head = MoCoProjectionHead(512, 512, 128)
            self.backbone_momentum = copy.deepcopy(self.backbone)
            self.projection_head_momentum = copy.deepcopy(self.projection_head)
            deactivate_requires_grad(self.backbone_momentum)
            deactivate_requires_grad(self.projection_head_momentum)

        def forward(self, x):
            return self.projection_head(self.backbone(x).flatten(start_dim=1))

        def forward_momentum(self, x):
            return self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1)).detach()

    model = LightlyMoCo()
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    transform = MoCoV2Transform(input_size=32, gaussian_blur=0.0)
    dataset = LightlyDataset(input_dir=osp.join(data_root, 'train'), transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                                         drop_last=True, num_workers=args.lightly_workers)
    criterion = NTXentLoss(temperature=0.1, memory_bank_size=(4096, 128))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4)
    timer = WindowTimer(args.batch_size, args.warmup, args.iters, args.windows)
    reset_peak_rss()
    timer.start()
    for (x_query, x_key), _, _ in loader:
        update_momentum(model.backbone, model.backbone_momentum, m=0.99)
        update_momentum(model.projection_head, model.projection_head_momentum, m=0.99)
        x_query = x_query.contiguous(memory_format=memory_format)
        x_key = x_key.contiguous(memory_format=memory_format)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.amp):
            query = model(x_query)
            key = model.forward_momentum(x_key)
            loss = criterion(query, key)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if timer.tick():
            break
    result = dict(lightly=summarise(timer.rates(), timer.faults_per_iter()),
                  lightly_peak_rss_mb=peak_rss_mb())
    del loader
    gc.collect()
    return result


# --- entry point -----------------------------------------------------------------------------
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
