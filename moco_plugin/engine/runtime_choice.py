"""Device, precision and threads of a training run, applied to its config.

``tools/train.py`` resolves ``--device``, ``--precision`` and ``--threads`` with
:mod:`moco_plugin.utils.device_precision` and applies them here, so the config the Runner
builds (and dumps into the work dir) says what ran, and :class:`SafeCheckpointHook` records
it in every checkpoint's ``meta.precision``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch

from moco_plugin.utils.device_precision import (PrecisionChoice, choose_precision,
                                               resolve_device, threads_for_process)

# Top-level config key holding the resolved choice (PrecisionChoice.as_dict()).
PRECISION_KEY = 'precision_choice'


def apply_precision(cfg, choice: PrecisionChoice) -> None:
    """Set ``cfg.optim_wrapper`` for ``choice`` and record the choice in ``cfg``.

    fp32 leaves the config's wrapper as it is; bf16 (any device) and fp16 on a CPU use
    :class:`AutocastOptimWrapper` (no loss scaler: bf16 has fp32's exponent range); fp16 on
    CUDA uses MMEngine's ``AmpOptimWrapper`` with a dynamic loss scaler.
    """
    wrapper = cfg.optim_wrapper
    if choice.precision == 'fp16' and choice.device.startswith('cuda'):
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
        wrapper.pop('dtype', None)
    elif choice.precision in ('bf16', 'fp16'):
        wrapper['type'] = 'AutocastOptimWrapper'
        wrapper['dtype'] = 'bfloat16' if choice.precision == 'bf16' else 'float16'
    elif wrapper.get('type') in ('AutocastOptimWrapper', 'AmpOptimWrapper'):
        # fp32 asked for over a config that sets mixed precision itself
        wrapper['type'] = 'OptimWrapper'
        for key in ('dtype', 'loss_scale'):
            wrapper.pop(key, None)
    cfg[PRECISION_KEY] = choice.as_dict()


def set_threads(requested: Optional[int] = None) -> Dict[str, int]:
    """Set this process's intra-op threads: ``requested``, else :func:`threads_for_process`
    divided among the processes of a torchrun launch on this machine (``$LOCAL_WORLD_SIZE``).

    Loader workers run one thread each (``worker_init_from_torch_seed``), so several torch
    processes on few cores do not spin-wait each other.
    """
    import os

    cores = threads_for_process({})  # the cores this process may run on
    if requested is not None:
        if requested < 1:
            raise ValueError(f'--threads must be >= 1, got {requested}')
        threads = requested
    else:
        threads = threads_for_process()
        explicit = any(os.environ.get(k, '').strip() for k in ('MOCO_NUM_THREADS', 'OMP_NUM_THREADS'))
        local = int(os.environ.get('LOCAL_WORLD_SIZE', '1') or 1)
        if not explicit and local > 1:
            threads = max(1, cores // local)
    torch.set_num_threads(threads)
    return dict(threads=threads, cores=cores)


def requested_precision(options: Any) -> str:
    """The ``--precision`` asked for, with ``--amp`` folded in (``'amp'``); ``options`` has
    ``precision`` (and optionally ``precision_request``, ``amp``) attributes.

    Raises:
        ValueError: ``--amp`` together with ``--precision fp32``.
    """
    requested = (getattr(options, 'precision_request', None) or getattr(options, 'precision', None)
                 or 'auto')
    if getattr(options, 'amp', False) is True:
        if requested == 'fp32':
            raise ValueError('--amp and --precision fp32 contradict each other; pass one')
        requested = 'amp' if requested == 'auto' else requested
    return requested


def resolve_runtime(options: Any, task: str, image_size: Optional[int] = None) -> PrecisionChoice:
    """Resolve ``options.device`` (``--device``) in place and the precision asked for
    (``--precision``/``--amp``) for ``task`` at ``image_size``; ``options.precision_choice``
    records the choice for result files."""
    options.device = resolve_device(getattr(options, 'device', None))
    choice = choose_precision(requested_precision(options), options.device, task, image_size)
    options.precision_choice = choice.as_dict()
    return choice
