"""Release copies of training checkpoints, and listing them before they are uploaded."""
from __future__ import annotations

import hashlib
import json

import pytest
import torch

from moco_plugin.cli.download_checkpoint import main as download_main
from moco_plugin.cli.model_zoo import main as model_zoo_main
from moco_plugin.evaluation import sha256_of_state_dict
from moco_plugin.models.backbones.resnet import ResNet
from moco_plugin.utils import safe_torch_load
from moco_plugin.zoo import download_checkpoint, read_metafile
from moco_plugin.zoo.publish import publish_checkpoint
from tests.test_zoo.helpers import write_metafile, zoo_entry

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py'


def _training_checkpoint(path, seed=0):
    """What MMEngine writes during training: weights plus optimizer, hub and RNG state."""
    torch.manual_seed(seed)
    backbone = ResNet(depth=18, cifar_stem=False).state_dict()
    state = {f'backbone.{k}': v for k, v in backbone.items()}
    state.update({'queue.features': torch.randn(64, 8), 'queue.ptr': torch.tensor(16)})
    torch.save({'meta': {'epoch': 6, 'iter': 4686, 'seed': 0, 'rng_state': {'torch': torch.zeros(8)},
                         'knn_history': [{'epoch': 6, 'top1': 40.0}], 'cfg': 'model = dict()'},
                'state_dict': state,
                'optimizer': {'state': {0: {'exp_avg': torch.randn(1_000_000)}},
                              'param_groups': [{'lr': 3e-4}]},
                'message_hub': {'log_scalars': {}}}, path)
    return {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}


def test_release_copy_keeps_weights_and_meta_only_and_is_named_by_its_sha256(tmp_path):
    original = tmp_path / 'epoch_6.pth'
    _training_checkpoint(original)
    path, sha256 = publish_checkpoint(original, tmp_path / 'release', 'mocov2_r18_6e')
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha256 == digest
    assert path.name == f'mocov2_r18_6e_{digest[:8]}.pth'
    released, trained = safe_torch_load(str(path)), safe_torch_load(str(original))
    assert set(released) == {'meta', 'state_dict'}
    assert released['meta'] == {'epoch': 6, 'iter': 4686, 'seed': 0, 'cfg': 'model = dict()',
                                'knn_history': [{'epoch': 6, 'top1': 40.0}]}
    assert released['state_dict'].keys() == trained['state_dict'].keys()
    for key, value in trained['state_dict'].items():
        assert torch.equal(released['state_dict'][key], value), key
    assert original.stat().st_size - path.stat().st_size > 4_000_000  # the AdamW state is gone
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_publish_refuses_bad_names_and_foreign_layouts(tmp_path, capsys):
    plain = tmp_path / 'resnet.pth'
    torch.save(ResNet(depth=18).state_dict(), plain)
    with pytest.raises(ValueError, match='plain ResNet state_dict'):
        publish_checkpoint(plain, tmp_path, 'x')
    with pytest.raises(ValueError, match='zoo names are lowercase'):
        publish_checkpoint(plain, tmp_path, 'Bad Name')
    with pytest.raises(SystemExit) as code:
        model_zoo_main(['publish', str(tmp_path / 'missing.pth'), '--name', 'x'])
    assert code.value.code == 2
    assert 'checkpoint not found' in capsys.readouterr().err



def _add(metafile, doc, checkpoint, result):
    return model_zoo_main(['--metafile', str(metafile), '--doc', str(doc), 'add', str(checkpoint),
                           '--name', 'mocov2_r18_6e', '--algorithm', 'MoCo v2', '--config', CONFIG,
                           '--batch-size', '64', '--data', 'CIFAR-10 train',
                           '--eval-data', 'CIFAR-10 test', '--benchmark', str(result)])


def test_benchmark_of_the_training_checkpoint_counts_for_its_release_copy(zoo_copy, tmp_path,
                                                                          capsys):
    metafile, doc = zoo_copy
    original = tmp_path / 'epoch_6.pth'
    backbone = _training_checkpoint(original)
    released, _ = publish_checkpoint(original, tmp_path / 'release', 'mocov2_r18_6e')
    result = tmp_path / 'bench.json'
    result.write_text(json.dumps({  # as tools/benchmark_linear.py records the file it measured
        'knn': {'200': {'top1': 48.31}},
        'linear': {'top1': 51.46, 'settings': {'lr': 0.03}, 'lr_sweep': {'selected_lr': 0.03}},
        'checkpoint_sha256': hashlib.sha256(original.read_bytes()).hexdigest(),
        'weights_sha256': sha256_of_state_dict(backbone)}))
    with pytest.raises(SystemExit) as code:
        _add(metafile, doc, released, result)
    assert code.value.code == 0, capsys.readouterr().err
    entry = read_metafile(metafile).get('mocov2_r18_6e')
    assert entry.sha256 == hashlib.sha256(released.read_bytes()).hexdigest()
    assert (entry.knn_top1, entry.linear_top1, entry.epochs) == (48.31, 51.46, 6)
    assert entry.metrics_source == ('tools/benchmark_linear.py result bench.json, k-NN k=200, '
                                    'linear lr 0.03 chosen on held-out training images')

    other = tmp_path / 'other.pth'  # a different training run: same shapes, other weights
    _training_checkpoint(other, seed=1)
    other_release, _ = publish_checkpoint(other, tmp_path, 'x')
    with pytest.raises(SystemExit) as code:
        _add(metafile, doc, other_release, result)
    assert code.value.code == 2
    assert 'with other backbone weights' in capsys.readouterr().err


def test_entry_listed_before_upload_says_how_to_reproduce(tmp_path, monkeypatch, capsys):
    metafile = write_metafile(tmp_path / 'local.json', [dict(
        zoo_entry('not_here', 'work_dirs/zoo_release/not_here_0123abcd.pth', '4' * 64),
        reproduce=f'python tools/train.py {CONFIG}')])
    monkeypatch.setenv('MOCO_ZOO_FILES', str(metafile))
    with pytest.raises(FileNotFoundError) as error:
        download_checkpoint('not_here')
    assert 'not uploaded yet' in str(error.value)
    assert str(error.value).endswith(f'reproduce it with: python tools/train.py {CONFIG}')
    with pytest.raises(SystemExit):
        download_main(['--list'])
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith('not_here'))
    assert line.endswith('not uploaded')
