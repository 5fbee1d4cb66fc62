"""Atomic file writes: readers see the old file or the new one, never half of either.

Every file the project writes (checkpoints, exports, result JSON, linear heads, feature
caches, the zoo metafile) goes through :func:`atomic_write_bytes`, so a process killed
mid-write leaves the previous version in place.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
import os.path as osp
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Union

import numpy as np

PathLike = Union[str, Path]
# The temporary files of atomic_write_bytes: '.<target name>.<8 random chars>.tmp'.
_PARTIAL_WRITE = re.compile(r'^\..+\.[A-Za-z0-9_]{8}\.tmp$')


def _current_umask() -> int:
    # os.umask can only be read by setting it; put the old value straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: PathLike) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces ``path`` when the block ends without an error.

    It writes to a temporary file in the same folder, then renames it over ``path``; an
    error inside the block removes the temporary file and leaves ``path`` as it was. The
    file gets the mode ``open()`` would give it (``0o666`` less the umask):
    ``tempfile.mkstemp`` alone creates ``0o600`` files that colleagues sharing a folder
    cannot read.

    Example:
        >>> import tempfile, os
        >>> target = os.path.join(tempfile.mkdtemp(), 'numbers.bin')
        >>> with atomic_open(target) as handle:
        ...     _ = handle.write(bytes([1, 2, 3]))
        >>> open(target, 'rb').read()
        b'\\x01\\x02\\x03'
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(data: bytes, path: PathLike) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`).

    Example:
        >>> import tempfile, os
        >>> target = os.path.join(tempfile.mkdtemp(), 'result.json')
        >>> atomic_write_bytes(b'{}', target)
        >>> open(target, 'rb').read()
        b'{}'
    """
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(text: str, path: PathLike, encoding: str = 'utf-8') -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(text.encode(encoding), path)


def atomic_save_npy(array: np.ndarray, path: PathLike) -> None:
    """``np.save`` to ``path``, atomically, streamed to the file (a decoded-image cache can be
    gigabytes; it is not copied into memory first)."""
    with atomic_open(path) as handle:
        np.save(handle, array, allow_pickle=False)  # the caches are read without pickle too


def remove_partial_writes(folder: PathLike, older_than_s: float = 0.0) -> list:
    """Delete the temporary files that writes killed mid-way left in ``folder``.

    Only names :func:`atomic_write_bytes` creates are touched. ``older_than_s``
    spares files another live process may still be writing (shared caches).

    Returns:
        The removed paths.
    """
    folder = os.fspath(folder)
    if not osp.isdir(folder):
        return []
    removed = []
    now = time.time()
    for name in os.listdir(folder):
        path = osp.join(folder, name)
        if not _PARTIAL_WRITE.match(name) or not osp.isfile(path):
            continue
        try:
            if now - osp.getmtime(path) >= older_than_s:
                os.remove(path)
                removed.append(path)
        except FileNotFoundError:  # another process cleaned it up first
            continue
    return removed


def atomic_save_png(figure, path: PathLike, dpi: int = 110) -> None:
    """A matplotlib figure as PNG at ``path``, atomically (the figure is not closed)."""
    with atomic_open(path) as handle:
        figure.savefig(handle, format='png', dpi=dpi)
