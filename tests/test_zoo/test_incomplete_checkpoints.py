"""Converting an incomplete or foreign checkpoint is refused before anything is written."""
import pytest
import torch

from moco_plugin.cli.convert_checkpoint import main as convert_main
from tests.test_zoo.helpers import make_official_checkpoint


def _convert_fails(tmp_path, capsys, checkpoint, *argv):
    source = tmp_path / 'in.pth'
    torch.save(checkpoint, source)
    out = tmp_path / 'out.pth'
    with pytest.raises(SystemExit) as code:
        convert_main([str(source), str(out), *argv])
    err = capsys.readouterr().err.strip()
    assert code.value.code == 2, err
    assert not out.exists() and '\n' not in err
    return err


@pytest.mark.parametrize('drop, message', [
    ('layer4.2.', r'15 missing \(first: layer4.2.conv1.weight, layer4.2.bn1.weight'),
    ('layer3.1.bn2.running_var', r'1 missing \(first: layer3.1.bn2.running_var\)'),
])
# 15 = 3 convolutions + 3 BatchNorms x 4 tensors (num_batches_tracked is left to BatchNorm)
def test_official_file_with_missing_tensors_is_refused(official_r50_v1, tmp_path, capsys, drop,
                                                       message):
    import re
    checkpoint = dict(official_r50_v1[0])
    checkpoint['state_dict'] = {k: v for k, v in checkpoint['state_dict'].items()
                                if drop not in k}
    err = _convert_fails(tmp_path, capsys, checkpoint, '--to', 'torchvision')
    assert 'does not hold a complete resnet50 backbone' in err and re.search(message, err), err


def test_expected_architecture_can_be_named(tmp_path, capsys):
    checkpoint, _, _ = make_official_checkpoint('resnet18', with_queue=False, queue_len=8)
    checkpoint.pop('arch')  # a re-saved file: only --arch says what it should be
    err = _convert_fails(tmp_path, capsys, checkpoint, '--to', 'torchvision', '--arch', 'resnet50')
    assert 'does not hold a complete resnet50 backbone' in err and 'missing' in err, err
    checkpoint['arch'] = 'resnet18'
    err = _convert_fails(tmp_path, capsys, checkpoint, '--to', 'torchvision', '--arch', 'resnet50')
    assert "--arch resnet50 given, but" in err and "arch='resnet18'" in err


def test_key_encoder_export_of_a_file_without_one_is_refused(tmp_path, capsys):
    checkpoint, _, _ = make_official_checkpoint('resnet18', with_queue=False,
                                                with_key_encoder=False, queue_len=8)
    err = _convert_fails(tmp_path, capsys, checkpoint, '--to', 'torchvision', '--encoder', 'key')
    assert 'has no key encoder' in err and 'export --encoder query' in err  # base: wrote the query one
