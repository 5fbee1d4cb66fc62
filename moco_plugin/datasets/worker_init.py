"""Seeding of data-loader worker processes."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from moco_plugin.registry import FUNCTIONS


@FUNCTIONS.register_module()
def worker_init_from_torch_seed(worker_id: int) -> None:
    """Seed ``random``, numpy and torch in a worker from torch's per-worker seed and the rank.

    PyTorch gives each worker ``base_seed + worker_id`` where ``base_seed`` is
    drawn from the main process RNG every epoch. MMEngine's default
    ``worker_init_fn`` re-seeds workers with a constant (seed + worker id), so
    every epoch would replay the same augmentations; deriving the seeds from
    torch's keeps them fresh per epoch and still reproducible (and resumable,
    since the main RNG state is checkpointed by ``RNGStateHook``).

    The rank is added as MMEngine's default does, so that worker ``i`` of every
    rank never shares a seed with worker ``i`` of another even where the main
    RNGs agree (before ``RNGStateHook`` moves each rank onto its own stream, or in
    configs without that hook). It comes from ``$RANK`` (set by torchrun and
    MMEngine's slurm launcher, inherited by workers however they are started);
    0 otherwise, so single-process seeds are unchanged. Each worker runs one
    intra-op thread.
    """
    info = torch.utils.data.get_worker_info()
    if info is not None:
        # One intra-op thread per worker (PyTorch's default, made explicit): workers only
        # index and collate, and more threads would spin-wait against the training process.
        torch.set_num_threads(1)
    seed = torch.initial_seed()
    if info is not None:
        seed += int(os.environ.get('RANK', 0)) * info.num_workers
    seed %= 2**64
    torch.manual_seed(seed)  # torchvision's random transforms draw from torch
    random.seed(seed % 2**32)
    np.random.seed(seed % 2**32)
