"""Checkpoint files: atomic writes and safe (allow-listed) reads.

* ``AtomicLocalBackend`` (registered as MMEngine file backend
  ``'atomic_local'``) writes to a temporary file in the target folder and
  renames it over the target, so a run killed while saving never leaves a
  truncated ``epoch_N.pth`` or ``last_checkpoint``. The default runtime
  config points ``CheckpointHook(backend_args=...)`` at it.
* Local checkpoint reads by MMEngine (``load_from``, ``--resume``,
  ``init_cfg``) go through :func:`moco_plugin.utils.safe_torch_load`
  (``weights_only=True`` plus an allow-list) instead of a bare ``torch.load``;
  MMEngine's download schemes (``torchvision://``, ``open-mmlab://``, ``mmcls://``)
  through :func:`moco_plugin.utils.safe_load.safe_load_url`.
* Layers above the engine (the model zoo) add checkpoint converters with
  :func:`register_checkpoint_converter`, e.g. official MoCo key layout -> ours,
  without the engine importing them.
* :func:`read_checkpoint` is how the project reads a whole checkpoint outside the
  Runner (``--resume`` checks, backbone loading): the same schemes and converters.
"""
from __future__ import annotations

import os.path as osp
from pathlib import Path
from typing import Any, Callable, List, Union

import mmengine.runner.checkpoint as mmengine_checkpoint
from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader

from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.utils.safe_load import safe_load_url, safe_torch_load

CheckpointConverter = Callable[[Any], Any]
_CONVERTERS: List[CheckpointConverter] = []


def register_checkpoint_converter(converter: CheckpointConverter) -> CheckpointConverter:
    """Apply ``converter`` to every checkpoint MMEngine reads from a local path.

    A converter returns the checkpoint unchanged when it does not recognise it.
    Registering the same function twice has no effect.
    """
    if converter not in _CONVERTERS:
        _CONVERTERS.append(converter)
    return converter


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


def load_from_local_safely(filename: str, map_location=None):
    """MMEngine checkpoint loader for local paths, with ``weights_only=True``.

    Registered converters run in order (the zoo's turns official MoCo releases
    into this project's key layout).
    """
    checkpoint = safe_torch_load(osp.expanduser(filename), map_location=map_location)
    for converter in _CONVERTERS:
        checkpoint = converter(checkpoint)
    return checkpoint


def read_checkpoint(source: str, map_location: Any = 'cpu') -> Any:
    """The checkpoint at ``source`` (a path or any registered scheme: ``zoo://`` once the zoo
    is imported, ``http(s)://``, MMEngine's), read safely and converted, without log lines."""
    return CheckpointLoader.load_checkpoint(source, map_location=map_location, logger='silent')


register_backend('atomic_local', AtomicLocalBackend, force=True)
CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safely, force=True)
# MMEngine's torchvision://, modelzoo://, open-mmlab://, openmmlab://, mmcls:// and http(s)://
# loaders all download through this module-level name (torch.hub's loader, weights_only=False
# by default); every scheme the Runner can reach then reads with weights_only=True.
mmengine_checkpoint.load_url = safe_load_url
