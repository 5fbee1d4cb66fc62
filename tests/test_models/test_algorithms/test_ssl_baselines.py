"""SimCLR, BYOL, SimSiam, supervised and random-init: each config builds and trains on real data.

Every config goes through tools/train.py's code (in-process, to save the interpreter start)
for 2 iterations on a 32-image class-balanced subset of the real CIFAR-10, CPU-light: the
ImageNet stem on 32 px and narrower projection MLPs.
"""
import json
import math

import pytest
import torch
from mmengine.config import Config

import moco_plugin.models  # noqa: F401
from moco_plugin.cli import benchmark as benchmark_cli, train
from moco_plugin.registry import MODELS
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT

CONFIGS = {
    'SimCLR': 'configs/simclr/simclr_resnet18_1xb256-coslr-200e_cifar10.py',
    'BYOL': 'configs/byol/byol_resnet18_1xb256-coslr-200e_cifar10.py',
    'SimSiam': 'configs/simsiam/simsiam_resnet18_1xb256-coslr-200e_cifar10.py',
    'Supervised': 'configs/supervised/supervised_resnet18_1xb256-coslr-200e_cifar10.py',
    'RandomInit': 'configs/random_init/random_init_resnet18_cifar10.py',
}
MOCO_V2 = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=32',
        'train_dataloader.num_workers=0', 'train_cfg.max_epochs=1',
        'model.backbone.cifar_stem=False', 'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1']
NARROW = {  # smaller projection / prediction MLPs: the test checks wiring, not capacity
    'SimCLR': ['model.neck.hid_channels=64', 'model.neck.out_channels=32'],
    'BYOL': ['model.neck.hid_channels=64', 'model.neck.out_channels=32',
             'model.head.in_channels=32', 'model.head.hid_channels=64', 'model.head.out_channels=32'],
    'SimSiam': ['model.neck.hid_channels=64', 'model.neck.out_channels=64',
                'model.head.in_channels=64', 'model.head.hid_channels=16', 'model.head.out_channels=64'],
    'Supervised': [],
}
EXPECTED_PREFIXES = {
    'SimCLR': {'backbone', 'neck'},
    'BYOL': {'backbone', 'neck', 'head', 'target_backbone', 'target_neck'},
    'SimSiam': {'backbone', 'neck', 'head'},
    'Supervised': {'backbone', 'head'},
}


def _exit_code(fn, argv):
    with pytest.raises(SystemExit) as exit_info:
        fn(argv)
    return exit_info.value.code


@pytest.fixture(scope='module')
def pretrained(cifar_root, tmp_path_factory):
    """``pretrained(algorithm)``: path of its 2-iteration checkpoint, trained once per module."""
    paths = {}

    def get(algorithm):
        if algorithm not in paths:
            work_dir = tmp_path_factory.mktemp(algorithm)
            argv = [str(REPO_ROOT / CONFIGS[algorithm]), '--work-dir', str(work_dir), '--data-root',
                    str(cifar_root), '--cfg-options', *TINY, *NARROW[algorithm]]
            assert _exit_code(train.main, argv) == 0
            paths[algorithm] = work_dir / 'epoch_1.pth'
        return paths[algorithm]
    return get


@pytest.mark.parametrize('algorithm', list(CONFIGS))
def test_config_uses_the_moco_v2_backbone_data_and_schedule(algorithm):
    cfg, moco = Config.fromfile(str(REPO_ROOT / CONFIGS[algorithm])), Config.fromfile(str(REPO_ROOT / MOCO_V2))
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == algorithm
    assert cfg.model.backbone == dict(moco.model.backbone)
    assert cfg.optim_wrapper.optimizer == moco.optim_wrapper.optimizer
    assert cfg.param_scheduler == moco.param_scheduler and cfg.train_cfg == moco.train_cfg
    assert cfg.train_dataloader.dataset.type == moco.train_dataloader.dataset.type
    assert cfg.train_dataloader.batch_size == moco.train_dataloader.batch_size
    if algorithm not in ('Supervised', 'RandomInit'):  # the same two augmented views
        assert cfg.train_dataloader.dataset.pipeline == moco.train_dataloader.dataset.pipeline
    features = model(torch.zeros(2, 3, 32, 32), mode='tensor')
    assert features.shape == (2, 512)


@pytest.mark.parametrize('algorithm', ['SimCLR', 'BYOL', 'SimSiam', 'Supervised'])
def test_trains_two_iterations_on_real_cifar(algorithm, pretrained):
    checkpoint = safe_torch_load(str(pretrained(algorithm)))
    assert checkpoint['meta']['iter'] == 2
    prefixes = {key.split('.')[0] for key in checkpoint['state_dict']}
    assert prefixes == EXPECTED_PREFIXES[algorithm]
    losses = checkpoint['message_hub']['log_scalars']['train/loss'].data[0]
    assert len(losses) == 2 and all(math.isfinite(float(v)) for v in losses)
    state = checkpoint['state_dict']
    if algorithm == 'BYOL':  # the momentum hook drove the target network
        assert 'train/momentum' in checkpoint['message_hub']['log_scalars']
        online, target = state['backbone.conv1.weight'], state['target_backbone.conv1.weight']
        assert not torch.equal(online, target)
    if algorithm in ('SimSiam', 'SimCLR'):
        assert not any(k.startswith(('target_', 'key_')) for k in state)


def test_byol_checkpoint_evaluates_and_a_wrong_backbone_is_refused(pretrained, cifar_root,
                                                                   tmp_path, capsys):
    checkpoint = pretrained('BYOL')
    out = tmp_path / 'byol.json'
    common = [str(REPO_ROOT / CONFIGS['BYOL']), str(checkpoint), '--data-root', str(cifar_root),
              '--subset-train', '40', '--subset-test', '20', '--knn', '--k', '5', '--num-workers',
              '0', '--quiet', '--out', str(out)]
    assert _exit_code(benchmark_cli.main, [*common, '--cfg-options',
                                              'model.backbone.cifar_stem=False']) == 0
    result = json.loads(out.read_text())
    assert result['algorithm'] == 'BYOL' and result['pretrain']['epochs'] == 1
    assert result['checkpoint_sha256'] and 0 <= result['knn']['5']['top1'] <= 100
    capsys.readouterr()
    assert _exit_code(benchmark_cli.main, common) == 2  # config says CIFAR stem: 3x3 conv1
    errors = [ln for ln in capsys.readouterr().err.splitlines() if 'error' in ln]
    assert len(errors) == 1 and 'do not fit' in errors[0] and 'conv1.weight' in errors[0]


def test_random_init_cannot_be_pretrained(cifar_root, tmp_path, capsys):
    argv = [str(REPO_ROOT / CONFIGS['RandomInit']), '--work-dir', str(tmp_path), '--data-root',
            str(cifar_root), '--cfg-options', *TINY]
    assert _exit_code(train.main, argv) == 2
    assert 'tools/benchmark_linear.py CONFIG random' in capsys.readouterr().err
