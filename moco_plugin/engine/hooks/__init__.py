"""The training hooks: EMA (``MomentumUpdateHook``), queue flush (``QueueHook``), checkpoints
(``SafeCheckpointHook``, ``RNGStateHook``, ``DataPositionHook``), preemption, progress and
loss curves, the device fast paths.

One more hook lives outside this package: ``KNNMonitorHook`` (k-NN accuracy during
pretraining) is in :mod:`moco_plugin.evaluation.knn_monitor_hook`, because it runs the
evaluation layer's k-NN and feature extraction, and layers of the same level do not import
each other (``docs/ARCHITECTURE.md``). It is registered in the same ``HOOKS`` registry, so a
config names it like the others: ``dict(type='KNNMonitorHook', interval=1)``.
"""
from moco_plugin.engine.hooks.data_position_hook import DataPositionHook
from moco_plugin.engine.hooks.device_data_hook import DeviceDataHook
from moco_plugin.engine.hooks.fast_path_hook import FastPathHook
from moco_plugin.engine.hooks.lazy_runtime_info_hook import LazyRuntimeInfoHook
from moco_plugin.engine.hooks.loss_curve_hook import LossCurveHook
from moco_plugin.engine.hooks.momentum_update_hook import MomentumUpdateHook
from moco_plugin.engine.hooks.preemption_hook import PREEMPTED_EXIT_CODE, PreemptionHook
from moco_plugin.engine.hooks.progress_bar_hook import ProgressBarHook
from moco_plugin.engine.hooks.queue_hook import QueueHook
from moco_plugin.engine.hooks.rng_state_hook import RNGStateHook
from moco_plugin.engine.hooks.safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['DataPositionHook', 'DeviceDataHook', 'FastPathHook', 'LazyRuntimeInfoHook',
           'LossCurveHook', 'MomentumUpdateHook', 'PREEMPTED_EXIT_CODE', 'PreemptionHook',
           'ProgressBarHook', 'QueueHook', 'RNGStateHook', 'SafeCheckpointHook']
