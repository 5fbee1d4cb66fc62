"""Official MoCo v1/v2 releases (ResNet-50 key names and shapes) load into this project's MoCo."""
from __future__ import annotations

import pytest
import torch

from moco_plugin.models import MoCo
from moco_plugin.registry import MODELS
from moco_plugin.utils.safe_load import UnsafeCheckpointError
from moco_plugin.zoo import (KeyMismatchError, load_checkpoint, load_pretrained,
                             load_state_dict_strictly, official_to_project)
from tests.test_zoo.helpers import NotAllowListed, make_official_checkpoint


def build_moco(depth: int, mlp: bool, queue_len: int = 65536) -> MoCo:
    width = 2048 if depth == 50 else 512
    neck = (dict(type='MoCoV2Neck', in_channels=width, hid_channels=width, out_channels=128) if mlp
            else dict(type='LinearNeck', in_channels=width, out_channels=128))
    return MODELS.build(dict(type='MoCo', queue_len=queue_len, feat_dim=128,
                             backbone=dict(type='ResNet', depth=depth), neck=neck,
                             head=dict(type='InfoNCEHead', temperature=0.2))).eval()


def test_synthetic_releases_have_the_official_keys_and_shapes(official_r50_v1, official_r50_v2):
    v1, v2 = official_r50_v1[0]['state_dict'], official_r50_v2[0]['state_dict']
    assert sum(k.startswith('module.encoder_q.') for k in v1) == 320  # torchvision resnet50 + fc
    assert v1['module.encoder_q.fc.weight'].shape == (128, 2048)
    assert v1['module.encoder_k.layer4.2.bn3.running_var'].shape == (2048,)
    assert v1['module.queue'].shape == (128, 65536) and v1['module.queue_ptr'].shape == (1,)
    assert v2['module.encoder_q.fc.0.weight'].shape == (2048, 2048)
    assert v2['module.encoder_q.fc.2.weight'].shape == (128, 2048)
    assert 'module.queue' not in v2
    assert set(official_r50_v1[0]) == {'epoch', 'arch', 'state_dict', 'optimizer'}


def test_official_v1_file_converts_and_loads_strictly_with_equal_outputs(official_r50_v1, tmp_path):
    checkpoint, query, key_state = official_r50_v1
    path = tmp_path / 'moco_v1_200ep_pretrain.pth.tar'
    # the 2020 releases predate torch's zip format
    torch.save(checkpoint, path, _use_new_zipfile_serialization=False)

    converted = load_checkpoint(str(path))  # weights_only=True, then key conversion
    model = build_moco(50, mlp=False)
    assert load_state_dict_strictly(model, converted['state_dict']) == []

    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.allclose(model.extract_feat(x), query.features(x), atol=1e-5)
        assert torch.allclose(model.neck(model.backbone(x)), query(x), atol=1e-5)
    assert torch.equal(model.key_backbone.layer3[1].conv2.weight,
                       key_state['layer3.1.conv2.weight'])
    assert torch.equal(model.key_neck.fc.weight, key_state['fc.weight'])
    assert torch.equal(model.queue.features, checkpoint['state_dict']['module.queue'].t())
    assert int(model.queue.ptr) == 1024
    assert converted['meta']['conversion']['epoch'] == 200
    assert any('optimizer' in note for note in converted['meta']['conversion']['notes'])


def test_official_v2_without_queue_loads_and_reports_the_queue(official_r50_v2, tmp_path):
    checkpoint, query, key_state = official_r50_v2
    path = tmp_path / 'moco_v2_800ep_pretrain.pth.tar'
    torch.save(checkpoint, path)
    model = build_moco(50, mlp=True)
    initial_queue = model.queue.features.clone()

    kept = load_pretrained(model, str(path))

    assert kept == ['queue.features', 'queue.ptr', 'queue.indices']  # reported by name, not skipped
    assert torch.equal(model.queue.features, initial_queue)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        assert torch.allclose(model.neck(model.backbone(x)), query(x), atol=1e-5)
    assert torch.equal(model.key_neck.head.layers[2].bias, key_state['fc.2.bias'])


def test_release_without_key_encoder_starts_it_as_a_copy():
    checkpoint, _, _ = make_official_checkpoint('resnet18', mlp=True, with_queue=False,
                                                with_key_encoder=False, queue_len=8)
    converted = official_to_project(checkpoint)
    state = converted['state_dict']
    assert torch.equal(state['key_backbone.conv1.weight'], state['backbone.conv1.weight'])
    assert torch.equal(state['key_neck.head.layers.0.weight'], state['neck.head.layers.0.weight'])
    assert any('encoder_k' in note for note in converted['meta']['conversion']['notes'])
    with pytest.raises(ValueError, match='no encoder_k'):
        official_to_project(checkpoint, fill_key_encoder=False)


def test_unknown_official_key_is_named():
    checkpoint, _, _ = make_official_checkpoint('resnet18', with_queue=False, queue_len=8)
    checkpoint['state_dict']['module.encoder_q.fc.1.weight'] = torch.zeros(1)
    checkpoint['state_dict']['module.predictor.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='module.encoder_q.fc.1.weight, module.predictor.weight'):
        official_to_project(checkpoint)


def test_key_mismatches_are_listed_by_name():
    checkpoint, _, _ = make_official_checkpoint('resnet18', with_queue=True, queue_len=16)
    state = official_to_project(checkpoint)['state_dict']
    model = build_moco(18, mlp=True, queue_len=16)  # v2 neck, v1 weights
    with pytest.raises(KeyMismatchError) as err:
        load_state_dict_strictly(model, state)
    message = str(err.value)
    assert 'missing keys: key_neck.head.layers.0.bias' in message
    assert ('unexpected keys: key_neck.fc.bias, key_neck.fc.weight, neck.fc.bias, '
            'neck.fc.weight') in message

    state_v1 = dict(state)
    state_v1['queue.features'] = torch.zeros(32, 128)
    with pytest.raises(KeyMismatchError, match=r'shape mismatch: queue.features '
                                               r'\(checkpoint \(32, 128\), model \(16, 128\)\)'):
        load_state_dict_strictly(build_moco(18, mlp=False, queue_len=16), state_v1)


def test_checkpoint_needing_arbitrary_unpickling_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'extra': NotAllowListed()}, path)
    with pytest.raises(UnsafeCheckpointError, match='refusing to load .*arbitrary unpickling'):
        load_checkpoint(str(path))
