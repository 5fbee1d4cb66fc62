"""Seeding of data-loader worker processes."""
from __future__ import annotations

import random

import numpy as np
import torch

from moco_plugin.registry import FUNCTIONS


@FUNCTIONS.register_module()
def worker_init_from_torch_seed(worker_id: int) -> None:
    """Seed ``random`` and numpy in a worker from torch's per-worker seed.

    PyTorch gives each worker ``base_seed + worker_id`` where ``base_seed`` is
    drawn from the main process RNG every epoch. MMEngine's default
    ``worker_init_fn`` re-seeds workers with a constant (seed + worker id), so
    every epoch would replay the same augmentations; deriving the seeds from
    torch's keeps them fresh per epoch and still reproducible (and resumable,
    since the main RNG state is checkpointed by ``RNGStateHook``).
    """
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
