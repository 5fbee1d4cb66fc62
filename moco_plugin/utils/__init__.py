from moco_plugin.utils.atomic_io import atomic_save_npy, atomic_write_bytes, atomic_write_text
from moco_plugin.utils.cache import cache_dir
from moco_plugin.utils.hashing import sha256_of_file, sha256_of_state_dict
from moco_plugin.utils.safe_load import (UnsafeCheckpointError, register_safe_globals,
                                         safe_torch_load)

__all__ = ['UnsafeCheckpointError', 'atomic_save_npy', 'atomic_write_bytes', 'atomic_write_text',
           'cache_dir', 'register_safe_globals', 'safe_torch_load', 'sha256_of_file',
           'sha256_of_state_dict']
