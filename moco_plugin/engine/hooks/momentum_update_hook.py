"""Momentum (EMA) update of target encoders: where MoCo's key encoder moves."""
from __future__ import annotations

import math
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.models.algorithms.moco import MoCo
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
    (MoCo's query/key encoders, BYOL's online/target networks, ...).

    Why after the optimizer step: the official MoCo updates the key encoder at
    the start of each forward, from the query encoder as left by the previous
    step. Updating right after that step is the same sequence of values (the
    step-0 update is a no-op since both encoders start equal), and it runs
    before ``CheckpointHook`` (lower priority), so a checkpoint holds the
    target encoder that the next step will use. The momentum is a function of
    the iteration only, so resuming needs no extra state.

    The settings come from the model (``model.momentum``, ``model.end_momentum``,
    ``model.momentum_schedule``, see ``momentum_settings()``), so a sweep changes one
    model key; the hook's own arguments are for models that do not set them. A value
    set in both places must agree (else a one-line error at train start); one set in
    neither is the algorithm's ``DEFAULT_MOMENTUM`` (declared at the top of its class;
    MoCo's for a model that declares none). The hook holds no default of its own.

    Args:
        momentum: Momentum at the first step (0.999 in MoCo, 0.99 for CIFAR).
        end_momentum: Momentum at the last step for the cosine schedule.
        schedule: ``'constant'`` or ``'cosine'``.
        interval: Update every ``interval`` iterations.
    """

    priority = 'NORMAL'

    def __init__(self, momentum: Optional[float] = None, end_momentum: Optional[float] = None,
                 schedule: Optional[str] = None, interval: int = 1) -> None:
        self.given = {k: v for k, v in dict(momentum=momentum, end_momentum=end_momentum,
                                            schedule=schedule).items() if v is not None}
        self._apply({**MoCo.DEFAULT_MOMENTUM, **self.given})  # validates them now
        self.interval = interval

    def _apply(self, settings: dict) -> None:
        momentum, end_momentum, schedule = (settings['momentum'], settings['end_momentum'],
                                            settings['schedule'])
        if not 0.0 <= momentum <= 1.0 or not 0.0 <= end_momentum <= 1.0:
            raise ValueError(f'momentum values must be in [0, 1], got {momentum} and {end_momentum}')
        momentum_at(0, 1, momentum, end_momentum, schedule)  # validates the schedule name
        self.momentum, self.end_momentum, self.schedule = momentum, end_momentum, schedule

    def resolve(self, model) -> dict:
        """The model's settings, else the hook's, else the model's ``DEFAULT_MOMENTUM``.

        Keys missing from a model's ``DEFAULT_MOMENTUM`` come from ``MoCo.DEFAULT_MOMENTUM``.
        """
        from_model = model.momentum_settings() if hasattr(model, 'momentum_settings') else {}
        clashes = [f'{key}: model {from_model[key]!r}, MomentumUpdateHook {self.given[key]!r}'
                   for key in from_model if key in self.given and from_model[key] != self.given[key]]
        if clashes:
            raise ValueError('the EMA momentum is set twice with different values ('
                             + '; '.join(clashes) + '); set it in one place, the model '
                             '(model.momentum / end_momentum / momentum_schedule)')
        defaults = {**MoCo.DEFAULT_MOMENTUM, **getattr(model, 'DEFAULT_MOMENTUM', {})}
        return {**defaults, **self.given, **from_model}

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        pairs = getattr(model, 'momentum_pairs', None)
        if pairs is None or not list(pairs()):
            raise ValueError(f'MomentumUpdateHook: {type(model).__name__} declares no '
                             'momentum_pairs(); remove the hook from custom_hooks or use a model '
                             'with a target encoder')
        self._apply(self.resolve(model))
        if hasattr(runner, 'logger'):
            end = f' to {self.end_momentum}' if self.schedule == 'cosine' else ''
            runner.logger.info(f'MomentumUpdateHook: momentum {self.momentum} ({self.schedule}'
                               f'{end}), every {self.interval} iteration(s)')
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
