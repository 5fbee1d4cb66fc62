import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

import moco_plugin.engine  # noqa: F401  (registers the safe loader and atomic backend)
from moco_plugin.engine.checkpoint_io import AtomicLocalBackend
from moco_plugin.engine.hooks.rng_state_hook import get_rng_state, set_rng_state
from moco_plugin.utils import UnsafeCheckpointError, safe_torch_load


def test_atomic_backend_put_text(tmp_path):
    AtomicLocalBackend().put_text('epoch_3.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_3.pth'


def test_mmengine_style_checkpoint_loads_with_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(1.5)
    checkpoint = {'meta': {'epoch': 1, 'rng_state': get_rng_state()},
                  'message_hub': {'log_scalars': {'train/loss': buffer}},
                  'state_dict': {'w': torch.ones(2)}, 'np': np.arange(3)}
    path = tmp_path / 'ckpt.pth'
    torch.save(checkpoint, path)
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 1.5
    np.testing.assert_array_equal(loaded['np'], np.arange(3))


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_checkpoint_with_arbitrary_code_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Evil()}, path)
    with pytest.raises(UnsafeCheckpointError, match='refusing to load .*arbitrary unpickling'):
        safe_torch_load(str(path))


def test_truncated_checkpoint_gives_clear_error(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save({'state_dict': {'w': torch.randn(1000)}}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(RuntimeError, match='truncated or not a torch checkpoint'):
        safe_torch_load(str(path))


def test_missing_checkpoint_gives_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        safe_torch_load(str(tmp_path / 'nope.pth'))


def test_rng_state_round_trip():
    state = get_rng_state()
    expected = (torch.rand(3), np.random.rand(3), __import__('random').random())
    set_rng_state(state)
    again = (torch.rand(3), np.random.rand(3), __import__('random').random())
    torch.testing.assert_close(expected[0], again[0])
    np.testing.assert_array_equal(expected[1], again[1])
    assert expected[2] == again[2]
    pickle.dumps(state)  # plain, picklable values only
