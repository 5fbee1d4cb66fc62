"""``zoo://NAME`` and official files through MMEngine (load_from, init_cfg), URLs read safely."""
from __future__ import annotations

import io

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader, load_checkpoint

import moco_plugin.engine  # noqa: F401  (registers zoo://, the safe local and URL loaders)
from moco_plugin.registry import MODELS
from moco_plugin.utils.safe_load import UnsafeCheckpointError
from tests.test_zoo.helpers import (NotAllowListed, make_official_checkpoint, sha256_bytes,
                                    write_metafile, zoo_entry)


def moco_r18_config(**extra) -> dict:
    return dict(type='MoCo', queue_len=16, feat_dim=128, backbone=dict(type='ResNet', depth=18),
                neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128),
                head=dict(type='InfoNCEHead', temperature=0.2), **extra)


def to_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.fixture
def served_official(server, tmp_path, monkeypatch):
    """An official-layout ResNet-18 MoCo v2 release served as zoo://official_r18."""
    checkpoint, query, _ = make_official_checkpoint('resnet18', mlp=True, with_queue=True,
                                                    queue_len=16, seed=3)
    data = to_bytes(checkpoint)
    server.files['/official_r18.pth.tar'] = data
    metafile = write_metafile(tmp_path / 'zoo.json', [zoo_entry(
        'official_r18', server.url('/official_r18.pth.tar'), sha256_bytes(data),
        source='official')])
    monkeypatch.setenv('MOCO_ZOO_FILES', str(metafile))
    return checkpoint, query


def test_zoo_scheme_returns_converted_checkpoint(served_official):
    checkpoint, _ = served_official
    loaded = CheckpointLoader.load_checkpoint('zoo://official_r18', map_location='cpu')
    state = loaded['state_dict']
    assert torch.equal(state['backbone.layer2.0.conv1.weight'],
                       checkpoint['state_dict']['module.encoder_q.layer2.0.conv1.weight'])
    assert torch.equal(state['queue.features'], checkpoint['state_dict']['module.queue'].t())


def test_init_cfg_pretrained_accepts_zoo_names(served_official):
    _, query = served_official
    model = MODELS.build(moco_r18_config(
        init_cfg=dict(type='Pretrained', checkpoint='zoo://official_r18')))
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(model.neck(model.backbone(x)), query(x), atol=1e-6)


def test_load_from_local_official_file_matches_every_key(tmp_path, capsys):
    checkpoint, query, key_state = make_official_checkpoint('resnet18', mlp=True, with_queue=True,
                                                            queue_len=16, seed=4)
    path = tmp_path / 'moco_v2_200ep_pretrain.pth.tar'
    torch.save(checkpoint, path)
    model = MODELS.build(moco_r18_config()).eval()
    load_checkpoint(model, str(path), map_location='cpu', strict=True)  # raises on any mismatch
    assert torch.equal(model.key_backbone.layer4[1].bn2.running_mean,
                       key_state['layer4.1.bn2.running_mean'])
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(model.extract_feat(x), query.features(x), atol=1e-6)


def test_http_urls_are_read_with_weights_only(server):
    server.files['/evil.pth'] = to_bytes({'state_dict': {}, 'x': NotAllowListed()})
    with pytest.raises(UnsafeCheckpointError, match='arbitrary unpickling'):
        CheckpointLoader.load_checkpoint(server.url('/evil.pth'), map_location='cpu')


def test_http_url_checkpoint_is_cached(server):
    server.files['/plain.pth'] = to_bytes({'state_dict': {'backbone.w': torch.arange(3.0)}})
    for _ in range(2):
        loaded = CheckpointLoader.load_checkpoint(server.url('/plain.pth'), map_location='cpu')
        assert torch.equal(loaded['state_dict']['backbone.w'], torch.arange(3.0))
    assert len(server.requests) == 1
