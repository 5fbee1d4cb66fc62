"""moco_plugin: MoCo v1/v2 (Momentum Contrast) for MMEngine.

Where things live:

* the queue of negative keys: :mod:`moco_plugin.models.utils.feature_queue`
* the momentum (EMA) update of the key encoder:
  :mod:`moco_plugin.engine.hooks.momentum_update_hook`
* the InfoNCE loss: :mod:`moco_plugin.models.heads.infonce_head`
* the algorithm wiring them together: :mod:`moco_plugin.models.algorithms.moco`
"""
from moco_plugin.utils.safe_load import register_safe_globals

__version__ = '0.1.0'

register_safe_globals()
