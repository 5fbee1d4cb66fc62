"""Momentum (EMA) update of target encoders: where MoCo's key encoder moves."""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.registry import HOOKS


def momentum_at(step: int, max_steps: int, base: float, end: float, schedule: str) -> float:
    """Momentum after optimizer step ``step`` (0-based) of ``max_steps``.

    ``constant`` returns ``base``; ``cosine`` rises from ``base`` to ``end`` as
    ``end - (end - base) * (cos(pi * step / max_steps) + 1) / 2``
    (`BYOL <https://arxiv.org/abs/2006.07733>`_, Sec. 3.2).
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
    (MoCo's query/key encoders, BYOL's online/target networks, ...).

    Why after the optimizer step: the official MoCo updates the key encoder at
    the start of each forward, from the query encoder as left by the previous
    step. Updating right after that step is the same sequence of values (the
    step-0 update is a no-op since both encoders start equal), and it runs
    before ``CheckpointHook`` (lower priority), so a checkpoint holds the
    target encoder that the next step will use. The momentum is a function of
    the iteration only, so resuming needs no extra state.

    Args:
        momentum: Momentum at the first step (0.999 in MoCo, 0.99 for CIFAR).
        end_momentum: Momentum at the last step for the cosine schedule.
        schedule: ``'constant'`` or ``'cosine'``.
        interval: Update every ``interval`` iterations.
    """

    priority = 'NORMAL'

    def __init__(self, momentum: float = 0.999, end_momentum: float = 1.0,
                 schedule: str = 'constant', interval: int = 1) -> None:
        if not 0.0 <= momentum <= 1.0 or not 0.0 <= end_momentum <= 1.0:
            raise ValueError(f'momentum values must be in [0, 1], got {momentum} and {end_momentum}')
        momentum_at(0, 1, momentum, end_momentum, schedule)  # validates the schedule name
        self.momentum = momentum
        self.end_momentum = end_momentum
        self.schedule = schedule
        self.interval = interval

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pairs = getattr(model, 'momentum_pairs', None)
        if pairs is None or not list(pairs()):
            raise ValueError(f'MomentumUpdateHook: {type(model).__name__} declares no '
                             'momentum_pairs(); remove the hook from custom_hooks or use a model '
                             'with a target encoder')
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
