"""Atomic writes: whole files only, no temporary left behind, the umask honoured."""
import os
import stat
import time

import numpy as np
import pytest

from moco_plugin.utils.atomic_io import (atomic_save_npy, atomic_write_bytes, atomic_write_text,
                                         remove_partial_writes)


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / 'ckpt.pth'
    target.write_bytes(b'old')
    atomic_write_bytes(b'new contents', target)
    assert target.read_bytes() == b'new contents'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / 'ckpt.pth'
    target.write_bytes(b'old')

    with pytest.raises(TypeError):
        atomic_write_bytes(object(), target)  # type: ignore[arg-type]
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_write_honours_the_umask(tmp_path, umask, mode):
    # mkstemp alone gives 0600 whatever the umask: colleagues could not read the results.
    old = os.umask(umask)
    try:
        atomic_write_text('{}', tmp_path / 'result.json')
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / 'result.json').stat().st_mode) == mode


def test_atomic_save_npy_round_trips(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    atomic_save_npy(array, tmp_path / 'features.npy')
    np.testing.assert_array_equal(np.load(tmp_path / 'features.npy'), array)
    assert os.listdir(tmp_path) == ['features.npy']


def test_atomic_save_npy_does_not_copy_the_array_into_memory(tmp_path):
    # it went through a BytesIO and getvalue(): two extra copies of a cache of gigabytes
    import tracemalloc
    array = np.ones((40, 1024, 1024), dtype=np.uint8)  # 40 MiB
    tracemalloc.start()
    try:
        atomic_save_npy(array, tmp_path / 'decoded.npy')
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < array.nbytes / 4
    assert np.load(tmp_path / 'decoded.npy', mmap_mode='r').shape == array.shape


def test_atomic_save_npy_failure_keeps_old_file(tmp_path):
    target = tmp_path / 'features.npy'
    atomic_save_npy(np.zeros(3), target)
    with pytest.raises(ValueError):
        atomic_save_npy(np.array([object()]), target)  # object arrays need pickle: refused
    np.testing.assert_array_equal(np.load(target), np.zeros(3))
    assert os.listdir(tmp_path) == ['features.npy']


def test_partial_writes_are_removed_by_name_and_age(tmp_path):
    old = tmp_path / '.features.npy.a1b2c3d4.tmp'
    fresh = tmp_path / '.labels.npy.z9y8x7w6.tmp'
    other = tmp_path / 'notes.tmp'
    for path in (old, fresh, other):
        path.write_bytes(b'x')
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    assert remove_partial_writes(tmp_path, older_than_s=3600) == [str(old)]
    assert fresh.exists() and other.exists()  # another process may still be writing `fresh`
    assert remove_partial_writes(tmp_path) == [str(fresh)] and other.exists()
