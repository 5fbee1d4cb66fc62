"""Preemption: on SIGTERM / SIGUSR1 finish the step, checkpoint, exit with a code to requeue on."""
from __future__ import annotations

import signal
import sys
import threading
from typing import Sequence, Union

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from moco_plugin.registry import HOOKS

# EX_TEMPFAIL of sysexits.h: "temporary failure, the user is invited to retry". A requeue
# script tests for it: 0 = finished, 75 = preempted and checkpointed, anything else = failed.
PREEMPTED_EXIT_CODE = 75


def _signal(name: Union[str, int]) -> signal.Signals:
    if isinstance(name, int):
        return signal.Signals(name)
    key = name.upper() if name.upper().startswith('SIG') else 'SIG' + name.upper()
    try:
        return signal.Signals[key]
    except KeyError:
        raise ValueError(f'PreemptionHook: unknown signal {name!r}; name signals as SIGTERM, '
                         'SIGUSR1, USR2, ...') from None


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Turn a preemption signal into a checkpoint and a distinct exit code.

    slurm (``--signal=USR1@90``, and SIGTERM before the kill), Kubernetes and spot
    instances signal a job before they stop it. The handler only records the signal; after
    the training step in progress (``after_train_iter``, after every other hook, so the queue
    and the EMA encoder are updated) or at the end of an epoch, every rank agrees that one
    arrived (a max all-reduce), ``SafeCheckpointHook.save_now`` writes the checkpoint
    atomically (``iter_N.pth`` inside an epoch, continued exactly on ``--resume`` by
    ``DataPositionHook``; nothing when that step was just saved), the log says why, and the
    process exits with ``exit_code``. Signals during the save are recorded and change
    nothing; an interrupted write leaves the previous checkpoint whole.

    Args:
        signals: Names (or numbers) of the signals to catch. Defaults to SIGTERM and SIGUSR1.
        exit_code: Exit status after the checkpoint. Defaults to 75 (``EX_TEMPFAIL``).
    """

    priority = 'LOWEST'

    def __init__(self, signals: Sequence[Union[str, int]] = ('SIGTERM', 'SIGUSR1'),
                 exit_code: int = PREEMPTED_EXIT_CODE) -> None:
        self.signals = [_signal(s) for s in signals]
        self.exit_code = int(exit_code)
        self.received: list = []
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:  # no logging here: it takes locks
        self.received.append(signum)

    def before_train(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning('PreemptionHook: training runs outside the main thread, '
                                  'where Python cannot catch signals; preemption is not handled')
            return
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handle)

    def after_train(self, runner) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _requested(self) -> bool:
        flag = bool(self.received)
        if get_world_size() > 1:  # a collective: every rank passes here every step
            data = torch.tensor([int(flag)])
            all_reduce(data, op='max')
            flag = bool(data.item())
        return flag

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._requested():
            self._stop(runner, at_epoch_end=False)

    def after_train_epoch(self, runner) -> None:
        if self._requested():
            self._stop(runner, at_epoch_end=True)

    def _stop(self, runner, at_epoch_end: bool) -> None:
        before = len(self.received)
        names = ', '.join(signal.Signals(s).name for s in dict.fromkeys(self.received))
        why = f'{names} received' if names else 'another process received a preemption signal'
        done = runner.iter if at_epoch_end else runner.iter + 1
        checkpoint_hook = next((h for h in runner.hooks if hasattr(h, 'save_now')), None)
        if checkpoint_hook is None:
            runner.logger.error(f'{why} after iteration {done}, and no SafeCheckpointHook to '
                                f'save the run; exiting with code {self.exit_code}')
        else:
            if checkpoint_hook.saved_iter == done:  # the checkpoint hook just saved this step
                path = checkpoint_hook.last_ckpt
            else:
                path = checkpoint_hook.save_now(runner, at_epoch_end)
            later = ', '.join(signal.Signals(s).name for s in self.received[before:])
            later = f' ({later} during the save: ignored)' if later else ''
            runner.logger.warning(
                f'{why}: saved {path} after iteration {done} (epoch {runner.epoch + 1}){later}; '
                f'exiting with code {self.exit_code}; run the same command with --resume to '
                'continue')
        sys.exit(self.exit_code)
