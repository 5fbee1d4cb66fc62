"""A hook that stops training at one iteration until a preemption signal arrives from outside."""
import os
import os.path as osp
import signal
import time

from mmengine.hooks import Hook

from moco_plugin.engine.hooks import PreemptionHook
from moco_plugin.registry import HOOKS


@HOOKS.register_module()
class WaitForSignalHook(Hook):
    """Before iteration ``at`` (0-based, counted over the run) write ``<work_dir>/waiting``
    and wait (at most ``timeout_s``) until :class:`PreemptionHook` has recorded a signal, so
    a test can send it from another process while a step is in progress. With
    ``again_during_save`` the process sends itself SIGUSR1 while the checkpoint is saved."""

    priority = 'LOWEST'

    def __init__(self, at: int, again_during_save: bool = False, timeout_s: float = 60) -> None:
        self.at = at
        self.again_during_save = again_during_save
        self.timeout_s = timeout_s

    @staticmethod
    def _preemption(runner) -> PreemptionHook:
        return next(h for h in runner.hooks if isinstance(h, PreemptionHook))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter != self.at:
            return
        with open(osp.join(runner.work_dir, 'waiting'), 'w') as handle:
            handle.write(str(os.getpid()))
        deadline = time.monotonic() + self.timeout_s
        while not self._preemption(runner).received and time.monotonic() < deadline:
            time.sleep(0.02)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.again_during_save and self._preemption(runner).received:
            os.kill(os.getpid(), signal.SIGUSR1)


@HOOKS.register_module()
class SignalSelfHook(Hook):
    """Rank ``rank`` sends itself ``sig`` before iteration ``at``: a signal only one process
    of a distributed run receives."""

    priority = 'LOWEST'

    def __init__(self, at: int, rank: int = 0, sig: str = 'SIGUSR1') -> None:
        self.at, self.rank, self.sig = at, rank, getattr(signal, sig)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        from mmengine.dist import get_rank

        if runner.iter == self.at and get_rank() == self.rank:
            os.kill(os.getpid(), self.sig)
