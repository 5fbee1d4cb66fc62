"""Momentum (EMA) update of target encoders: where MoCo's key encoder moves."""
from __future__ import annotations

import math
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.registry import HOOKS


def momentum_at(step: int, max_steps: int, base: float, end: float, schedule: str) -> float:
    """Momentum after optimizer step ``step`` (0-based) of ``max_steps``.

    ``constant`` returns ``base``; ``cosine`` rises from ``base`` to ``end`` as
    ``end - (end - base) * (cos(pi * step / max_steps) + 1) / 2``
    (`BYOL <https://arxiv.org/abs/2006.07733>`_, Sec. 3.2).

    Example:
        >>> momentum_at(500, 1000, base=0.999, end=1.0, schedule='constant')
        0.999
        >>> [round(momentum_at(s, 100, base=0.99, end=1.0, schedule='cosine'), 4)
        ...  for s in (0, 50, 100, 200)]  # half-way at the middle, held at the end
        [0.99, 0.995, 1.0, 1.0]
        >>> momentum_at(0, 10, 0.9, 1.0, 'linear')
        Traceback (most recent call last):
        ...
        ValueError: momentum schedule must be 'constant' or 'cosine', got 'linear'
    """
    if schedule == 'constant':
        return base
    if schedule == 'cosine':
        progress = min(step / max(max_steps, 1), 1.0)
        return end - (end - base) * (math.cos(math.pi * progress) + 1) / 2
    raise ValueError(f"momentum schedule must be 'constant' or 'cosine', got {schedule!r}")


@torch.no_grad()
def ema_update_(target: torch.nn.Module, online: torch.nn.Module, momentum: float) -> None:
    """``target = momentum * target + (1 - momentum) * online`` for every parameter.

    Buffers (BN running statistics) are left alone: as in the official MoCo,
    the target encoder keeps the statistics of the batches it sees. One fused
    ``_foreach_lerp_`` call updates all tensors.
    """
    target_params = list(target.parameters())
    online_params = list(online.parameters())
    if len(target_params) != len(online_params):
        raise ValueError('online and target modules have different parameter lists; '
                         'the target must be a copy of the online module')
    torch._foreach_lerp_(target_params, [p.detach() for p in online_params], 1.0 - momentum)


@HOOKS.register_module()
class MomentumUpdateHook(Hook):
    """Exponential moving average of target modules after every optimizer step.

    Works for any model that declares ``momentum_pairs() -> [(online, target), ...]``
    (MoCo's query/key encoders, BYOL's online/target networks, ...) and its EMA in
    ``momentum_settings()``.

    Why after the optimizer step: the official MoCo updates the key encoder at
    the start of each forward, from the query encoder as left by the previous
    step. Updating right after that step is the same sequence of values (the
    step-0 update is a no-op since both encoders start equal), and it runs
    before ``CheckpointHook`` (lower priority), so a checkpoint holds the
    target encoder that the next step will use. The momentum is a function of
    the iteration only, so resuming needs no extra state.

    One owner: the model holds the EMA (``model.momentum``, ``model.end_momentum``,
    ``model.momentum_schedule``, defaulting to the algorithm's ``DEFAULT_MOMENTUM`` at the
    top of its class), so a sweep changes one model key. The hook reads it in
    ``before_train`` and holds no momentum and no default of its own.

    Args:
        interval: Update every ``interval`` iterations.
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 1, **moved) -> None:
        if moved:  # configs written when the hook took the momentum
            where = {'momentum': 'momentum', 'end_momentum': 'end_momentum',
                     'schedule': 'momentum_schedule'}
            unknown = sorted(set(moved) - set(where))
            if unknown:
                raise TypeError(f'MomentumUpdateHook got unexpected arguments {unknown}; it '
                                'takes only interval')
            fix = ', '.join(f'{where[k]}={v!r}' for k, v in moved.items())
            raise ValueError(f'MomentumUpdateHook({", ".join(f"{k}={v!r}" for k, v in moved.items())}):'
                             f' the EMA is set on the model; write model=dict(..., {fix}) and '
                             "dict(type='MomentumUpdateHook')")
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f'MomentumUpdateHook interval must be a positive integer, got {interval!r}')
        self.interval = interval
        self.momentum: Optional[float] = None  # read from the model in before_train
        self.end_momentum: Optional[float] = None
        self.schedule: Optional[str] = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pairs = getattr(model, 'momentum_pairs', None)
        if pairs is None or not list(pairs()):
            raise ValueError(f'MomentumUpdateHook: {type(model).__name__} declares no '
                             'momentum_pairs(); remove the hook from custom_hooks or use a model '
                             'with a target encoder')
        settings = model.momentum_settings() if hasattr(model, 'momentum_settings') else {}
        if not settings:
            raise ValueError(f'MomentumUpdateHook: {type(model).__name__} has momentum_pairs() '
                             'but no EMA settings; subclass BaseSelfSupervisor, declare '
                             'DEFAULT_MOMENTUM and call self.set_momentum(...) in __init__')
        self.momentum, self.end_momentum = settings['momentum'], settings['end_momentum']
        self.schedule = settings['schedule']
        momentum_at(0, 1, self.momentum, self.end_momentum, self.schedule)  # checks the name
        if hasattr(runner, 'logger'):
            end = f' to {self.end_momentum}' if self.schedule == 'cosine' else ''
            runner.logger.info(f'MomentumUpdateHook: momentum {self.momentum} ({self.schedule}'
                               f'{end}, from the model), every {self.interval} iteration(s)')
        if hasattr(model, 'declare_training_hooks'):
            model.declare_training_hooks('MomentumUpdateHook')

    def current_momentum(self, runner) -> float:
        return momentum_at(runner.iter, runner.max_iters, self.momentum, self.end_momentum,
                           self.schedule)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if (runner.iter + 1) % self.interval:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        momentum = self.current_momentum(runner)
        for online, target in model.momentum_pairs():
            ema_update_(target, online, momentum)
        runner.message_hub.update_scalar('train/momentum', momentum)
