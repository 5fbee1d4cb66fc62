"""What a checkpoint must hold before the Runner loads it, and which checkpoint to resume.

MMEngine loads ``load_from`` and ``--resume`` checkpoints with ``strict=False``: a
tensor of another shape (``--resume`` with another ``queue_len``) or a missing block
(an incomplete download) is reported in the console and training goes on with
re-initialised weights. The checks here turn those cases into one-line errors; they
run from :class:`~moco_plugin.engine.hooks.SafeCheckpointHook`.
"""
from __future__ import annotations

import os
import os.path as osp
import re
import zipfile
from typing import List, Mapping, Optional, Sequence

import torch

# Buffers that may be absent from a ``load_from`` checkpoint: official MoCo releases
# and weights-only exports carry no queue, which then keeps its initial values.
OPTIONAL_ON_LOAD = ('queue.features', 'queue.ptr', 'queue.indices', 'bank.filled')
# Buffers added after checkpoints were written that lack them; resuming such a file keeps
# their initial values (queue.indices: each slot's image, only read by the own-image mask
# and the queue diagnostics, refilled within K / batch_size iterations; bank.filled: False,
# which a random-init bank is anyway).
ADDED_LATER = ('queue.indices', 'bank.filled')
# Where the size of a tensor is set in the config, for the hint of a shape mismatch.
SHAPE_SETTINGS = {'queue.features': 'model.queue_len / model.feat_dim'}
_CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model it is loaded into (one line, names the keys)."""


class MidEpochResumeError(ValueError):
    """A checkpoint saved inside an epoch cannot be continued exactly (one line, names why)."""


def first_names(names: Sequence[str], limit: int = 3) -> str:
    """``'a, b, c and 7 more'``."""
    shown = ', '.join(names[:limit])
    return shown + (f' and {len(names) - limit} more' if len(names) > limit else '')


def _shape_problems(checkpoint: Mapping[str, torch.Tensor],
                    model: Mapping[str, torch.Tensor]) -> List[str]:
    problems = []
    for key, value in checkpoint.items():
        if key in model and hasattr(value, 'shape') and tuple(value.shape) != tuple(model[key].shape):
            setting = f', set by {SHAPE_SETTINGS[key]}' if key in SHAPE_SETTINGS else ''
            problems.append(f'{key} (checkpoint {tuple(value.shape)}, model '
                            f'{tuple(model[key].shape)}{setting})')
    return problems


def check_resume_state(checkpoint: Mapping[str, torch.Tensor], model: Mapping[str, torch.Tensor],
                       source: str = 'the checkpoint') -> None:
    """Resuming needs every key with its shape: anything else would train on re-initialised parts.

    Raises:
        CheckpointMismatchError: Names the count and the first keys, and the fix.
    """
    shapes = _shape_problems(checkpoint, model)
    missing = [k for k in model if k not in checkpoint and k not in ADDED_LATER]
    unexpected = [k for k in checkpoint if k not in model]
    parts = [f'{len(v)} {what}: {first_names(v)}' for what, v in (
        ('tensors of another shape', shapes), ('missing', missing), ('unexpected', unexpected)) if v]
    if parts:
        raise CheckpointMismatchError(
            f'cannot resume from {source}: it does not fit the model ({"; ".join(parts)}); '
            'resume with the settings it was trained with, or start a new run from its '
            'weights with load_from')


def check_load_state(checkpoint: Mapping[str, torch.Tensor], model: Mapping[str, torch.Tensor],
                     source: str = 'the checkpoint') -> List[str]:
    """``load_from`` may hold a subset of the model's modules, but each one it holds whole.

    A backbone-only export is fine (the other modules keep their initialisation), but a
    backbone with a block or one tensor missing, or a tensor of another shape, is an
    incomplete or foreign file: MMEngine would fill the gaps with random weights.

    Returns:
        Checkpoint keys the model has no place for (the caller logs them).

    Raises:
        CheckpointMismatchError: Names the count and the first keys.
    """
    shapes = _shape_problems(checkpoint, model)
    modules = {k.split('.', 1)[0] for k in checkpoint if k in model}
    # BatchNorm fills a missing num_batches_tracked itself (files of old torch versions)
    missing = [k for k in model if k.split('.', 1)[0] in modules and k not in checkpoint
               and k not in OPTIONAL_ON_LOAD and not k.endswith('num_batches_tracked')]
    if not modules and checkpoint:
        raise CheckpointMismatchError(
            f'load_from {source}: none of its {len(checkpoint)} tensors fits the model (first: '
            f'{first_names(list(checkpoint))}); check that it is a checkpoint of this model')
    parts = [f'{len(v)} {what}: {first_names(v)}' for what, v in (
        ('tensors of another shape', shapes), ('missing', missing)) if v]
    if parts:
        raise CheckpointMismatchError(
            f'load_from {source} is incomplete or for another architecture '
            f'({"; ".join(parts)}); download or export it again, or fix the model config')
    return [k for k in checkpoint if k not in model]


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole torch zip file (its central directory, at the end, reads)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def newest_complete_checkpoint(folder: str) -> Optional[str]:
    """The most recently written complete ``epoch_N.pth`` / ``iter_N.pth`` in ``folder``."""
    if not osp.isdir(folder):
        return None
    candidates = [osp.join(folder, n) for n in os.listdir(folder) if _CHECKPOINT_NAME.match(n)]
    candidates.sort(key=lambda p: (osp.getmtime(p), int(_CHECKPOINT_NAME.match(osp.basename(p))[2])),
                    reverse=True)
    return next((p for p in candidates if is_complete_checkpoint(p)), None)


def checkpoint_to_resume(work_dir: str, recorded: Optional[str]) -> Optional[str]:
    """``recorded`` (the content of ``last_checkpoint``) if it names a complete file, else the
    newest complete checkpoint in ``work_dir`` (``None`` when there is none)."""
    if recorded and osp.isfile(recorded) and is_complete_checkpoint(recorded):
        return recorded
    return newest_complete_checkpoint(work_dir)

