"""Atomic file writes: readers see the old file or the new one, never half of either.

Every file the project writes (checkpoints, exports, result JSON, linear heads, feature
caches, the zoo metafile) goes through :func:`atomic_write_bytes`, so a process killed
mid-write leaves the previous version in place.
"""
from __future__ import annotations

import io
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

import numpy as np

PathLike = Union[str, Path]


def _current_umask() -> int:
    # os.umask can only be read by setting it; put the old value straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(data: bytes, path: PathLike) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the mode ``open()`` would give it (``0o666`` less the umask):
    ``tempfile.mkstemp`` alone creates ``0o600`` files that colleagues sharing a
    folder cannot read.

    Example:
        >>> import tempfile, os
        >>> target = os.path.join(tempfile.mkdtemp(), 'result.json')
        >>> atomic_write_bytes(b'{}', target)
        >>> open(target, 'rb').read()
        b'{}'
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(text: str, path: PathLike, encoding: str = 'utf-8') -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(text.encode(encoding), path)


def atomic_save_npy(array: np.ndarray, path: PathLike) -> None:
    """``np.save`` to ``path``, atomically."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(buffer.getvalue(), path)
