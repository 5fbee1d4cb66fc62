"""Save and restore random number generator states with checkpoints."""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook

from moco_plugin.registry import HOOKS


def get_rng_state() -> dict:
    """Python, numpy and torch (CPU and CUDA) RNG states as tensors and plain types."""
    np_state = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=dict(algorithm=np_state[0], keys=torch.from_numpy(np_state[1].astype(np.int64)),
                   pos=int(np_state[2]), has_gauss=int(np_state[3]), cached=float(np_state[4])),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state`."""
    random.setstate(state['python'])
    n = state['numpy']
    np.random.set_state((n['algorithm'], n['keys'].numpy().astype(np.uint32), n['pos'],
                         n['has_gauss'], n['cached']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def seed_rank_stream(rank: int) -> None:
    """Move ``random``, numpy and torch of rank ``rank > 0`` onto a stream of their own.

    MMEngine seeds every rank alike, so per-image augmentations that run in the
    main process (``num_workers=0``) would draw the same crops on every rank for
    different images. Rank 0 keeps its stream, so one-process runs are unchanged.
    """
    if rank == 0:
        return
    seed = (torch.initial_seed() + 0x9E3779B97F4A7C15 * rank) % 2**63
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Per-rank RNG streams, saved in each checkpoint and restored on resume.

    MMEngine re-seeds on resume, so augmentations and the shuffle-BN
    permutations after a resume would differ from an uninterrupted run. With
    the states restored (and data-loader workers seeded from torch's
    per-epoch seed, see ``worker_init_from_torch_seed``), a resumed run
    replays exactly what the uninterrupted run would have done.

    With several processes each rank draws from its own stream from the start
    of training (after the weights are initialised alike, see
    :func:`seed_rank_stream`); an epoch checkpoint holds every rank's state
    (``meta['rng_state_per_rank']``; ``meta['rng_state']`` is rank 0's) and each
    rank gets its own back on resume. Only rank 0 saves checkpoints (MMEngine
    runs ``before_save_checkpoint`` there alone), so the states are gathered by
    :meth:`gather_before_save`, which ``SafeCheckpointHook`` calls on every rank
    just before each save (at the end of an epoch, after every other hook that may
    draw numbers such as the k-NN monitor, or inside one).
    """

    priority = 89  # after_train_epoch just before CheckpointHook (VERY_LOW = 90)

    def __init__(self) -> None:
        self._restored = False
        self._gathered = None  # (iteration, [state of each rank])

    def gather_before_save(self, runner) -> None:
        if get_world_size() > 1:  # a collective: every rank passes here
            self._gathered = (runner.iter, all_gather_object(get_rng_state()))

    def before_train(self, runner) -> None:
        if not self._restored and get_world_size() > 1:
            seed_rank_stream(get_rank())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = get_rng_state()
        meta = checkpoint.setdefault('meta', {})
        meta['rng_state'] = state
        if self._gathered is not None and self._gathered[0] == runner.iter:
            meta['rng_state_per_rank'] = [state, *self._gathered[1][1:]]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta', {})
        per_rank = meta.get('rng_state_per_rank')
        if per_rank is not None and len(per_rank) == get_world_size():
            set_rng_state(per_rank[get_rank()])
            self._restored = True
            return
        state = meta.get('rng_state')
        if state is not None:
            set_rng_state(state)
            # saved by another number of ranks: rank 0's state, then streams apart as at start
            self._restored = get_world_size() == 1
