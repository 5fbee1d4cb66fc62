from moco_plugin.engine.hooks.loss_curve_hook import LossCurveHook
from moco_plugin.engine.hooks.momentum_update_hook import MomentumUpdateHook
from moco_plugin.engine.hooks.progress_bar_hook import ProgressBarHook
from moco_plugin.engine.hooks.queue_hook import QueueHook
from moco_plugin.engine.hooks.rng_state_hook import RNGStateHook

__all__ = ['LossCurveHook', 'MomentumUpdateHook', 'ProgressBarHook', 'QueueHook',
           'RNGStateHook']
