"""A hook that kills its own process, to test resuming after a real crash."""
import os
import signal

from mmengine.hooks import Hook

from moco_plugin.registry import HOOKS


@HOOKS.register_module()
class SigkillAfterEpochHook(Hook):
    """SIGKILL the training process after epoch ``epoch`` (after its checkpoint is saved)."""

    priority = 'LOWEST'  # after CheckpointHook

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGKILL)
