"""Every checkpoint scheme the Runner can reach reads with weights_only=True."""
import os

import pytest
import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

import moco_plugin.engine  # noqa: F401  (replaces MMEngine's loaders)
from moco_plugin.utils import safe_torch_load


class _MakesAFolder:
    """Unpickling this runs os.mkdir: the stand-in for an os.system payload."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.fixture()
def hub_cache(tmp_path, monkeypatch):
    """torch.hub's cache in tmp_path, holding a malicious 'download' for every scheme below."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    cache = tmp_path / 'torch_home' / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    marker = tmp_path / 'code_ran'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'x': _MakesAFolder(str(marker))},
               cache / 'evil-12345678.pth')
    url = 'https://download.example.org/models/evil-12345678.pth'  # served from the cache
    monkeypatch.setattr(mmengine_checkpoint, 'get_torchvision_models', lambda: {'evil': url})
    monkeypatch.setattr(mmengine_checkpoint, 'get_external_models', lambda: {'evil': url})
    monkeypatch.setattr(mmengine_checkpoint, 'get_mmcls_models', lambda: {'evil': url})
    monkeypatch.setattr(mmengine_checkpoint, 'get_deprecated_model_names', lambda: {})
    return marker


@pytest.mark.parametrize('source', ['torchvision://evil', 'modelzoo://evil', 'open-mmlab://evil',
                                    'openmmlab://evil', 'mmcls://evil'])
def test_mmengine_download_schemes_refuse_code_in_the_file(hub_cache, source):
    with pytest.raises(RuntimeError, match=r'refusing to load .*evil-12345678.pth: it needs '
                                           r'arbitrary unpickling'):
        CheckpointLoader.load_checkpoint(source, map_location='cpu', logger='silent')
    assert not hub_cache.exists()  # base: MMEngine unpickled it, and os.mkdir ran


def test_a_file_that_is_no_checkpoint_is_called_so(tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text('# moco-plugin\nMoCo v1 and v2 for MMEngine.\n')
    with pytest.raises(RuntimeError) as err:
        safe_torch_load(str(readme))
    message = str(err.value)
    assert 'truncated or not a torch checkpoint' in message
    assert 'arbitrary unpickling' not in message  # base: "it needs arbitrary unpickling"
