"""Checkpoint files: atomic writes and safe (allow-listed) reads.

* ``AtomicLocalBackend`` (registered as MMEngine file backend
  ``'atomic_local'``) writes to a temporary file in the target folder and
  renames it over the target, so a run killed while saving never leaves a
  truncated ``epoch_N.pth`` or ``last_checkpoint``. The default runtime
  config points ``CheckpointHook(backend_args=...)`` at it.
* Local checkpoint reads by MMEngine (``load_from``, ``--resume``,
  ``init_cfg``) go through :func:`moco_plugin.utils.safe_torch_load`
  (``weights_only=True`` plus an allow-list) instead of a bare ``torch.load``.
"""
from __future__ import annotations

import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.runner.checkpoint import CheckpointLoader

from moco_plugin.utils.safe_load import safe_torch_load


def atomic_write_bytes(data: bytes, path: Union[str, Path]) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half."""
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


def load_from_local_safely(filename: str, map_location=None):
    """MMEngine checkpoint loader for local paths, with ``weights_only=True``.

    Official MoCo releases come back in this project's key layout.
    """
    from moco_plugin.zoo.layouts import convert_if_official  # lazy: the zoo imports this module
    return convert_if_official(safe_torch_load(osp.expanduser(filename), map_location=map_location))


register_backend('atomic_local', AtomicLocalBackend, force=True)
CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safely, force=True)
