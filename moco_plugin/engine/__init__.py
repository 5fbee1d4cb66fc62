"""Training engine: hooks and checkpoint I/O (importing registers them)."""
from moco_plugin.engine import autocast_optim_wrapper, checkpoint_io, hooks  # noqa: F401
