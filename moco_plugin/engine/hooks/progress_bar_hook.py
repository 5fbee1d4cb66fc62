"""A tqdm progress bar over the whole run, with loss and ETA."""
from __future__ import annotations

import sys
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from tqdm import tqdm

from moco_plugin.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show iterations done / total, images/s, the current loss and the ETA.

    On a terminal the bar refreshes in place; in a log file (no TTY) it writes
    one line every ``min_interval_s`` seconds so logs stay short.

    Args:
        min_interval_s: Minimum seconds between refreshes when not on a TTY.
    """

    priority = 'LOW'

    def __init__(self, min_interval_s: float = 30.0) -> None:
        self.min_interval_s = min_interval_s
        self._bar: Optional[tqdm] = None

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        tty = sys.stderr.isatty()
        self._bar = tqdm(total=runner.max_iters, initial=runner.iter, unit='it', dynamic_ncols=True,
                         mininterval=0.5 if tty else self.min_interval_s, file=sys.stderr,
                         desc='pretrain')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        postfix = {'epoch': runner.epoch + 1}
        # The latest loss in the message hub (a float already): reading the step's tensor here
        # would wait for the device at every step (LazyRuntimeInfoHook fills it every N steps).
        loss = runner.message_hub.log_scalars.get('train/loss')
        if loss is not None and len(loss.data[0]):
            postfix['loss'] = f'{loss.current():.4f}'
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
