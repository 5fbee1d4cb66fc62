"""Checkpoint writes that fail in one line (full disk, read-only or unwritable folder) and a
warning before a save that the free space cannot hold."""
from __future__ import annotations

import errno
import os
import os.path as osp
import shutil
from typing import Optional

DISK_FULL = {errno.ENOSPC, getattr(errno, 'EDQUOT', errno.ENOSPC)}
NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
_MIB = 2**20


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written; names the file, the last whole one and the fix."""


def write_failure(err: OSError, path: str, last_whole: Optional[str]) -> Optional[CheckpointWriteError]:
    """The one-line error for ``err`` raised while writing ``path`` (``None``: not a disk or
    permission problem, the caller re-raises ``err``)."""
    if err.errno not in DISK_FULL | NOT_WRITABLE:
        return None
    folder = osp.dirname(osp.abspath(path))
    kept = (f'the last whole checkpoint is {last_whole} (--resume continues from it)'
            if last_whole else 'no checkpoint of this run is complete yet')
    if err.errno in DISK_FULL:
        fix = (f'free space on the disk of {folder} (or lower max_keep_ckpts of the checkpoint '
               'hook), or pass --work-dir on a disk with room, then --resume')
    else:
        fix = f'make {folder} writable or pass another --work-dir, then --resume'
    return CheckpointWriteError(f'cannot write {path}: {os.strerror(err.errno)} '
                                f'({errno.errorcode.get(err.errno, err.errno)}); {kept}; {fix}')


def space_warning(folder: str, last_whole: Optional[str], margin: float = 1.05) -> Optional[str]:
    """A warning when ``folder``'s disk has less free space than ``margin`` times the size of
    the last checkpoint (a new one is written whole before an old one is deleted)."""
    if not last_whole or not osp.isfile(last_whole):
        return None
    need = osp.getsize(last_whole)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return None
    if free >= need * margin:
        return None
    return (f'only {free / _MIB:.1f} MiB free in {folder} and the last checkpoint '
            f'({osp.basename(last_whole)}) takes {need / _MIB:.1f} MiB: this save will probably '
            'fail; free space there or pass --work-dir on a disk with room')
