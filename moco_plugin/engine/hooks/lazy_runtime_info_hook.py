"""MMEngine's RuntimeInfoHook without a host synchronisation at every training step."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch
from mmengine.hooks import RuntimeInfoHook

from moco_plugin.registry import HOOKS


@HOOKS.register_module()
class LazyRuntimeInfoHook(RuntimeInfoHook):
    """Log the step outputs (``loss``, ...) every ``interval`` iterations, not every one.

    MMEngine's ``RuntimeInfoHook`` puts each iteration's loss into the message
    hub with ``.item()``, which on a GPU waits for the step to finish: the host
    cannot queue the next step while the device runs this one. Here the
    outputs stay on the device and are read back in one transfer every
    ``interval`` iterations, at the end of each epoch, before a checkpoint is
    saved and at the end of training. Every value still enters the message hub,
    in order, so smoothed logs, ``LossCurveHook`` and the message hub saved in
    by-epoch checkpoints are the same as with the stock hook; only their timing
    moves (a checkpoint saved mid-epoch may miss up to ``interval`` values). Use
    an ``interval`` that divides ``LoggerHook``'s, so a log line sees its window.

    Args:
        interval: Iterations between read-backs.
    """

    def __init__(self, interval: int = 50) -> None:
        if interval < 1:
            raise ValueError(f'LazyRuntimeInfoHook interval must be >= 1, got {interval}')
        self.interval = interval
        self._pending: Dict[str, List[torch.Tensor]] = {}

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        for key, value in (outputs or {}).items():
            if isinstance(value, torch.Tensor):
                self._pending.setdefault(key, []).append(value.detach().reshape(()))
            else:
                runner.message_hub.update_scalar(f'train/{key}', value)
        loader = runner.train_dataloader
        end_of_epoch = hasattr(loader, '__len__') and batch_idx + 1 == len(loader)
        if (runner.iter + 1) % self.interval == 0 or end_of_epoch:
            self.flush(runner)

    def flush(self, runner) -> int:
        """Move the held values into the message hub (one device-to-host copy); returns how many."""
        if not self._pending:
            return 0
        keys = list(self._pending)
        lengths = [len(self._pending[k]) for k in keys]
        values = torch.cat([torch.stack(self._pending[k]).float() for k in keys]).tolist()
        self._pending = {}
        start = 0
        for key, length in zip(keys, lengths):
            for value in values[start:start + length]:
                runner.message_hub.update_scalar(f'train/{key}', value)
            start += length
        return len(values)

    def after_train_epoch(self, runner) -> None:
        self.flush(runner)
        super().after_train_epoch(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self.flush(runner)
        super().before_save_checkpoint(runner, checkpoint)

    def after_train(self, runner) -> None:
        self.flush(runner)
        super().after_train(runner)
