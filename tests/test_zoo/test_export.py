"""Exports round-trip: torchvision, detectron2 and MMEngine formats give the project's features."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torchvision
from mmengine.runner.checkpoint import _load_checkpoint_with_prefix, load_checkpoint
from torch import nn

from moco_plugin.cli.convert_checkpoint import main as convert_main
from moco_plugin.registry import MODELS
from moco_plugin.zoo import detectron2_key, to_detectron2
from moco_plugin.zoo.export import serialize
from tests.test_zoo.helpers import make_official_checkpoint, randomize_batchnorm


@pytest.fixture(scope='module')
def project_r18(tmp_path_factory):
    """A MoCo v2 ResNet-18 of this project (random weights and BN statistics), saved."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MoCo', queue_len=64, feat_dim=128, backbone=dict(type='ResNet', depth=18),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128),
        head=dict(type='InfoNCEHead', temperature=0.2)))
    randomize_batchnorm(model.backbone, torch.Generator().manual_seed(1))
    randomize_batchnorm(model.key_backbone, torch.Generator().manual_seed(2))
    model.eval()
    path = tmp_path_factory.mktemp('project') / 'epoch_1.pth'
    torch.save({'meta': {'epoch': 1}, 'state_dict': model.state_dict(),
                'optimizer': {'state': {}, 'param_groups': []}}, path)
    return model, path


def convert(*argv: str) -> None:
    with pytest.raises(SystemExit) as code:
        convert_main(list(argv))
    assert code.value.code == 0


def torchvision_resnet18_without_fc() -> nn.Module:
    net = torchvision.models.resnet18()
    net.fc = nn.Identity()
    return net.eval()


def test_torchvision_export_round_trips(project_r18, tmp_path, capsys):
    model, path = project_r18
    out = tmp_path / 'r18_tv.pth'
    convert(str(path), str(out), '--to', 'torchvision')
    assert 'torchvision format, 120 tensors from the project checkpoint' in capsys.readouterr().out

    net = torchvision_resnet18_without_fc()
    net.load_state_dict(torch.load(out, weights_only=True), strict=True)
    x = torch.randn(3, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.allclose(net(x), model.extract_feat(x), atol=1e-6)


def test_key_encoder_export(project_r18, tmp_path):
    model, path = project_r18
    out = tmp_path / 'r18_key.pth'
    convert(str(path), str(out), '--to', 'torchvision', '--encoder', 'key')
    exported = torch.load(out, weights_only=True)
    assert exported.keys() == model.key_backbone.state_dict().keys()
    assert all(torch.equal(exported[k], v) for k, v in model.key_backbone.state_dict().items())


def test_mmengine_export_loads_with_backbone_prefix(project_r18, tmp_path):
    model, path = project_r18
    out = tmp_path / 'r18_mm.pth'
    convert(str(path), str(out), '--to', 'mmengine')

    net = torchvision_resnet18_without_fc()  # what init_cfg=Pretrained(prefix='backbone.') does
    net.load_state_dict(_load_checkpoint_with_prefix('backbone.', str(out)), strict=True)
    detector_like = nn.Module()  # mmdet/mmpretrain models hold the ResNet as .backbone
    detector_like.backbone = torchvision_resnet18_without_fc()
    load_checkpoint(detector_like, str(out), strict=True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = model.extract_feat(x)
        assert torch.allclose(net(x), expected, atol=1e-6)
        assert torch.allclose(detector_like.backbone(x), expected, atol=1e-6)


def official_detectron2_conversion(state_dict: dict) -> dict:
    """What moco/detection/convert-pretrain-to-detectron2.py computes (the reference)."""
    model = {}
    for key, value in state_dict.items():
        if not key.startswith('module.encoder_q.'):
            continue
        key = key.replace('module.encoder_q.', '')
        if 'layer' not in key:
            key = 'stem.' + key
        for t in [1, 2, 3, 4]:
            key = key.replace(f'layer{t}', f'res{t + 1}')
        for t in [1, 2, 3]:
            key = key.replace(f'bn{t}', f'conv{t}.norm')
        key = key.replace('downsample.0', 'shortcut').replace('downsample.1', 'shortcut.norm')
        model[key] = value.numpy()
    return model


def test_detectron2_export_matches_the_official_converter_on_resnet50(official_r50_v1):
    checkpoint, _, _ = official_r50_v1
    exported = pickle.loads(serialize(to_detectron2(checkpoint), 'detectron2'))

    assert exported['__author__'] == 'MOCO' and exported['matching_heuristics'] is True
    reference = official_detectron2_conversion(checkpoint['state_dict'])
    # the official script also carries the projection as stem.fc.*; only the ResNet is exported
    assert set(exported['model']) == {k for k in reference if not k.startswith('stem.fc.')}
    assert len(exported['model']) == 318
    for key, value in exported['model'].items():
        assert isinstance(value, np.ndarray) and np.array_equal(value, reference[key]), key
    for name in ('stem.conv1.weight', 'stem.conv1.norm.running_var', 'res2.0.conv1.norm.weight',
                 'res2.0.shortcut.weight', 'res2.0.shortcut.norm.bias', 'res5.2.conv3.norm.weight',
                 'res4.5.conv2.weight'):
        assert name in exported['model'], name


def test_detectron2_key_names():
    assert detectron2_key('bn1.weight') == 'stem.conv1.norm.weight'
    assert (detectron2_key('layer3.0.downsample.1.running_mean')
            == 'res4.0.shortcut.norm.running_mean')
    assert detectron2_key('layer1.2.bn3.bias') == 'res2.2.conv3.norm.bias'


def test_detectron2_cli_export_of_a_project_checkpoint(project_r18, tmp_path, capsys):
    model, path = project_r18
    out = tmp_path / 'r18.pkl'
    convert(str(path), str(out), '--to', 'detectron2')
    assert 'detectron2 format, 120 tensors from the project checkpoint' in capsys.readouterr().out
    with open(out, 'rb') as handle:
        exported = pickle.load(handle)['model']
    assert np.array_equal(exported['res3.0.shortcut.weight'],
                          model.backbone.layer2[0].downsample[0].weight.detach().numpy())
    assert np.array_equal(exported['stem.conv1.norm.running_mean'],
                          model.backbone.bn1.running_mean.numpy())


def test_official_to_project_cli_and_back_to_torchvision(tmp_path, capsys):
    checkpoint, query, _ = make_official_checkpoint('resnet18', mlp=True, with_queue=False,
                                                    queue_len=8)
    official = tmp_path / 'official.pth.tar'
    torch.save(checkpoint, official)
    project = tmp_path / 'project.pth'
    convert(str(official), str(project), '--to', 'project')
    printed = capsys.readouterr().out
    assert 'note: no queue in the file' in printed and 'note: not converted: optimizer' in printed
    converted = torch.load(project, weights_only=True)
    assert converted['meta']['conversion']['projection'] == 'mlp'

    exported = tmp_path / 'tv.pth'
    convert(str(project), str(exported), '--to', 'torchvision')
    net = torchvision_resnet18_without_fc()
    net.load_state_dict(torch.load(exported, weights_only=True), strict=True)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        assert torch.allclose(net(x), query.features(x), atol=1e-6)


@pytest.mark.parametrize('argv, message', [
    (['--to', 'project'], 'is already in the project layout; choose --to torchvision'),
    (['--to', 'torchvision', '--from', 'official'], '--from official given, but'),
])
def test_convert_cli_errors_are_one_line(project_r18, tmp_path, capsys, argv, message):
    _, path = project_r18
    with pytest.raises(SystemExit) as code:
        convert_main([str(path), str(tmp_path / 'out.pth'), *argv])
    assert code.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('convert_checkpoint.py: error: ') and message in err and '\n' not in err
    assert not (tmp_path / 'out.pth').exists()


def test_convert_cli_rejects_a_plain_resnet(tmp_path, capsys):
    plain = tmp_path / 'plain.pth'
    torch.save(torchvision.models.resnet18().state_dict(), plain)
    with pytest.raises(SystemExit) as code:
        convert_main([str(plain), str(tmp_path / 'o.pth'), '--to', 'torchvision'])
    assert code.value.code == 2
    assert 'is a plain ResNet state_dict' in capsys.readouterr().err
