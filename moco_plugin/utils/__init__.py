from moco_plugin.utils.safe_load import (UnsafeCheckpointError, register_safe_globals,
                                         safe_torch_load)

__all__ = ['UnsafeCheckpointError', 'register_safe_globals', 'safe_torch_load']
