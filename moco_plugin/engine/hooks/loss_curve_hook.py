"""Plot the training loss curve to ``<work_dir>/loss_curve.png`` at the end of a run."""
from __future__ import annotations

import os.path as osp

import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from moco_plugin.registry import HOOKS


def plot_curve(values: np.ndarray, path: str, title: str, ylabel: str,
               reference: float | None = None, reference_label: str = '') -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(values) + 1)
    ax.plot(steps, values, lw=0.8, alpha=0.5, label='per iteration')
    if len(values) >= 10:
        window = max(len(values) // 50, 5)
        smooth = np.convolve(values, np.ones(window) / window, mode='valid')
        ax.plot(steps[window - 1:], smooth, lw=2, label=f'moving average ({window})')
    if reference is not None:
        ax.axhline(reference, color='gray', ls='--', label=reference_label)
    ax.set_xlabel('iteration')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@HOOKS.register_module()
class LossCurveHook(Hook):
    """Save a PNG of ``train/loss`` over all iterations (resumed runs included).

    The values come from MMEngine's message hub, whose history is stored in
    checkpoints, so a resumed run plots its whole history. For MoCo the
    chance level ``log(K + 1)`` is drawn as a reference line.
    """

    priority = 'VERY_LOW'

    def after_train(self, runner) -> None:
        if not is_main_process():
            return
        history = runner.message_hub.log_scalars.get('train/loss')
        if history is None or len(history.data[0]) == 0:
            return
        model = getattr(runner.model, 'module', runner.model)
        queue = getattr(model, 'queue', None)
        reference = float(np.log(queue.size + 1)) if queue is not None else None
        path = osp.join(runner.work_dir, 'loss_curve.png')
        plot_curve(np.asarray(history.data[0], dtype=float), path,
                   f'{type(model).__name__} pretraining loss', 'loss', reference,
                   'log(K+1): chance level' if reference is not None else '')
        runner.logger.info(f'loss curve saved to {path}')
