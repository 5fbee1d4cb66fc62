"""Save and restore random number generator states with checkpoints."""
from __future__ import annotations

import random

import numpy as np
import torch
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


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Put the RNG states in each checkpoint and restore them on resume.

    MMEngine re-seeds on resume, so augmentations and the shuffle-BN
    permutations after a resume would differ from an uninterrupted run. With
    the states restored (and data-loader workers seeded from torch's
    per-epoch seed, see ``worker_init_from_torch_seed``), a resumed run
    replays exactly what the uninterrupted run would have done.
    """

    priority = 'VERY_HIGH'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get('rng_state')
        if state is not None:
            set_rng_state(state)
