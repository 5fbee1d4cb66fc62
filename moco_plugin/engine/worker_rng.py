"""The random streams of data-loader workers, followed batch by batch so a resume can continue them.

PyTorch hands batch ``j`` of an epoch to worker ``j % num_workers`` and seeds each worker
once per epoch (``base_seed + worker_id``, then the loader's ``worker_init_fn``); the
per-image augmentations of a batch draw from its worker's stream. A run resumed inside an
epoch starts new workers, so to replay the uninterrupted run:

* :class:`StateReportingCollate` wraps the loader's ``collate_fn``; in a worker it adds the
  worker's RNG state after the batch (= before its next batch) to the batch under
  :data:`WORKER_STATE_KEY`, and :class:`~moco_plugin.engine.hooks.DataPositionHook` takes it
  out before the model sees the batch;
* :class:`RoleAssigningWorkerInit` wraps ``worker_init_fn``; for the resumed epoch, whose
  first batch is batch ``k``, new worker ``i`` takes the role of worker ``(k + i) % n`` of
  the interrupted run: that worker's saved state, or the seeds it got at the start of the
  epoch when it had not produced a batch yet.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import torch
from torch.utils.data import get_worker_info

from moco_plugin.engine.hooks.rng_state_hook import get_rng_state, set_rng_state

WORKER_STATE_KEY = '_moco_worker_rng_state'
_ROLE: Optional[int] = None  # in a worker process: the role it plays (its id unless resumed)


def _role() -> int:
    info = get_worker_info()
    return _ROLE if _ROLE is not None else info.id


class StateReportingCollate:
    """``collate_fn(samples)``, plus ``(role, rng state)`` in the batch when run in a worker."""

    def __init__(self, collate_fn: Callable) -> None:
        self.collate_fn = collate_fn

    def __call__(self, samples):
        batch = self.collate_fn(samples)
        if get_worker_info() is not None and isinstance(batch, dict):
            batch[WORKER_STATE_KEY] = (_role(), get_rng_state())
        return batch


def _seed_as_worker(role: int, worker_id: int) -> None:
    """Seed this worker as PyTorch seeds worker ``role`` of the same loader iterator."""
    import random

    import numpy as np
    from torch.utils.data._utils.worker import _generate_state

    base_seed = torch.initial_seed() - worker_id
    random.seed(base_seed + role)
    torch.manual_seed(base_seed + role)
    np.random.seed(_generate_state(base_seed, role))


class RoleAssigningWorkerInit:
    """``worker_init_fn`` that, while :attr:`roles` is set, puts worker ``i`` in the place of
    worker ``roles[i][0]``: its saved RNG state ``roles[i][1]``, or (``None``) its seeds."""

    def __init__(self, init_fn: Optional[Callable[[int], None]]) -> None:
        self.init_fn = init_fn
        self.roles: Optional[List[tuple]] = None

    def __call__(self, worker_id: int) -> None:
        global _ROLE
        role, state = (worker_id, None) if self.roles is None else self.roles[worker_id]
        _ROLE = role
        if role != worker_id and state is None:
            _seed_as_worker(role, worker_id)
        if self.init_fn is not None:
            self.init_fn(role)
        if state is not None:
            set_rng_state(state)


def resumed_roles(consumed_batches: int, num_workers: int,
                  states: Dict[int, dict]) -> List[tuple]:
    """``(role, state or None)`` of each new worker when an epoch resumes at batch
    ``consumed_batches``; ``states`` maps roles to their state after their last batch."""
    roles = [(consumed_batches + i) % num_workers for i in range(num_workers)]
    return [(role, states.get(role)) for role in roles]
