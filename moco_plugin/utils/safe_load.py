"""Safe checkpoint loading on torch >= 2.6 (``weights_only=True`` by default).

MMEngine 0.10.7 stores, besides tensors, the message hub (``HistoryBuffer``
objects holding numpy arrays) and numpy RNG states in its checkpoints. Since
torch 2.6, ``torch.load`` refuses such objects unless their classes are on an
allow-list, so ``--resume`` fails. Rather than unpickling arbitrary objects
(``weights_only=False``, which runs code from untrusted files), we add exactly
the classes these checkpoints contain to torch's allow-list.
"""
from __future__ import annotations

import codecs
import copyreg
import pickle
from typing import Any, Optional

import numpy as np
import torch


def _numpy_safe_globals() -> list[Any]:
    dtypes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
        np.uint8, np.uint16, np.uint32, np.uint64, np.bool_)]
    scalars = [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
               np.uint8, np.uint16, np.uint32, np.uint64, np.bool_]
    try:  # numpy >= 2 moved the private module; both names appear in pickles
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    return [np.ndarray, np.dtype, _reconstruct, scalar, codecs.encode, *dtypes, *scalars]


def safe_globals() -> list[Any]:
    """The allow-list: every non-tensor class an MMEngine/moco_plugin checkpoint holds."""
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, *_numpy_safe_globals()]


def _reduce_history_buffer(buffer):
    # The default pickle of a HistoryBuffer also stores its class-level method table
    # through ``builtins.getattr``; allow-listing getattr would widen what a checkpoint
    # may do, so buffers are saved as a constructor call over plain arrays instead.
    return type(buffer), (buffer._log_history, buffer._count_history, buffer.max_length)


def register_safe_globals() -> None:
    """Allow-list :func:`safe_globals` for ``weights_only`` loads (idempotent).

    Also makes MMEngine's ``HistoryBuffer`` pickle as ``HistoryBuffer(log,
    count, max_length)`` so the checkpoints we write need nothing beyond the
    allow-list.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no allow-list and no weights_only default
        add(safe_globals())


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint would need arbitrary unpickling (code execution) to load."""


def safe_torch_load(path: str, map_location: Any = 'cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and a one-line error on refusal.

    Args:
        path: A local checkpoint file.
        map_location: Passed to :func:`torch.load`.

    Raises:
        UnsafeCheckpointError: The file contains objects outside the allow-list.
        FileNotFoundError: The path does not exist.
        RuntimeError: The file is truncated or not a torch checkpoint.
    """
    register_safe_globals()
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f'checkpoint not found: {path}; check the path') from None
    except Exception as err:  # torch raises UnpicklingError/RuntimeError variants
        raise _explained(err, path) from None


def _explained(err: Exception, path: str) -> Exception:
    """The one-line error for a refused or unreadable checkpoint.

    torch words both cases as "Weights only load failed"; only a pickle that names
    a global outside the allow-list needs arbitrary unpickling. Any other failure
    (a README, random bytes, a truncated file: "Unsupported operand", "invalid load
    key") means the file is no checkpoint at all.
    """
    text = str(err)
    if 'Unsupported global' in text or 'GLOBAL' in text:
        first = next((ln.strip() for ln in text.splitlines() if 'GLOBAL' in ln or 'Unsupported' in ln), '')
        return UnsafeCheckpointError(
            f'refusing to load {path}: it needs arbitrary unpickling ({first}); '
            'only load it with weights_only=False if you trust its source, '
            'or re-save it as a plain state_dict')
    detail = next((ln.strip() for ln in text.splitlines() if 'Unsupported operand' in ln
                   or 'invalid load key' in ln), text.splitlines()[0] if text else '')
    return RuntimeError(
        f'cannot read checkpoint {path} ({type(err).__name__}: {detail}); the file is '
        'truncated or not a torch checkpoint: delete it and download or re-save it')


def safe_load_url(url: str, model_dir: Optional[str] = None, map_location: Any = None,
                  progress: bool = True, **kwargs: Any) -> Any:
    """``torch.hub.load_state_dict_from_url`` with ``weights_only=True`` and the allow-list.

    Stands in for the ``load_url`` MMEngine's ``torchvision://``, ``open-mmlab://``,
    ``mmcls://`` and ``http(s)://`` loaders call (torch's default there is
    ``weights_only=False``: any downloaded file could run code).
    """
    register_safe_globals()
    kwargs.pop('weights_only', None)
    try:
        return torch.hub.load_state_dict_from_url(url, model_dir=model_dir,
                                                  map_location=map_location, progress=progress,
                                                  weights_only=True, **kwargs)
    except Exception as err:
        if isinstance(err, (OSError, ValueError)) and not isinstance(err, pickle.UnpicklingError):
            raise
        raise _explained(err, url) from None
