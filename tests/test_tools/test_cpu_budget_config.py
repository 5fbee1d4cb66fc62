"""The CPU-budget MoCo v2 config (benchmarks/results/comparison_cpu/README.md's comparison setting) trains through tools/train.py."""
import math

import pytest

from mmengine.config import Config

from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool
from tests.helpers.scripts import load_script

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu.py'
TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=32',
        'train_dataloader.num_workers=0', 'model.queue_len=64', 'train_cfg.max_epochs=1',
        'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1',
        'model.data_preprocessor.batch_augment.compile=False',
        'custom_hooks.2.bank_size=40', 'custom_hooks.2.query_size=20']


def test_settings_are_the_ones_the_comparison_used():
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    assert cfg.optim_wrapper.optimizer.to_dict() == dict(type='AdamW', lr=3e-4, weight_decay=1e-4)
    assert 'momentum' not in cfg.optim_wrapper.optimizer  # SGD's key must not leak into AdamW
    augment = cfg.model.data_preprocessor.batch_augment
    assert (augment.brightness, augment.hue, augment.grayscale_prob) == (0.2, 0.05, 0.0)
    assert not cfg.model.backbone.cifar_stem and cfg.model.bn_splits == 4
    assert cfg.train_dataloader.batch_size == 64 and cfg.train_cfg.max_epochs == 6
    assert cfg.model.queue_len % cfg.train_dataloader.batch_size == 0


def test_trains_with_adamw_and_records_the_knn_curve(cifar_root, tmp_path):
    env = {'MOCO_DATA_ROOT': str(cifar_root), 'PYTHONPATH': str(REPO_ROOT)}
    result = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--cfg-options', *TINY,
                      env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = safe_torch_load(str(tmp_path / 'epoch_1.pth'))
    group = checkpoint['optimizer']['param_groups'][0]
    assert group['betas'] == (0.9, 0.999) and group['weight_decay'] == 1e-4
    assert any('exp_avg_sq' in state for state in checkpoint['optimizer']['state'].values())
    history = checkpoint['meta']['knn_history']
    assert [h['epoch'] for h in history] == [1]
    assert 0 <= history[0]['top1'] <= history[0]['top5'] <= 100 and math.isfinite(history[0]['top1'])
    assert (tmp_path / 'knn_curve.png').stat().st_size > 0


COMPARISON_ARGS = ['--epochs', '6', '--subset', '0', '--batch-size', '64', '--bn-splits', '4',
                   '--stem', 'imagenet', '--optimizer', 'adamw', '--lr', '3e-4', '--fast-aug',
                   '--jitter-strength', '0.5', '--gray-prob', '0', '--amp', '--jobs', '2']


@pytest.mark.parametrize('algorithm, config', [
    ('mocov2', CONFIG),
    ('mocov1', 'configs/mocov1/mocov1_resnet18_1xb64-adamw-steplr-6e_cifar10-cpu.py')])
def test_config_trains_what_the_comparison_trained(algorithm, config, tmp_path):
    """The model zoo's reproduce command for a comparison checkpoint uses this config."""
    driver = load_script('compare_cpu')
    compared = driver.budget_config(algorithm, driver.parse_args(
        ['--data-root', str(tmp_path), *COMPARISON_ARGS]))
    cfg = Config.fromfile(str(REPO_ROOT / config))
    for model in (cfg.model, compared.model):
        model.backbone.setdefault('stem_pool', True)  # ResNet's default
    assert cfg.model.to_dict() == compared.model.to_dict()
    assert cfg.optim_wrapper.optimizer.to_dict() == compared.optim_wrapper.optimizer.to_dict()
    assert [s.to_dict() for s in cfg.param_scheduler] == \
        [s.to_dict() for s in compared.param_scheduler]
    assert cfg.train_cfg.max_epochs == compared.train_cfg.max_epochs == 6
    for key in ('batch_size', 'sampler', 'drop_last'):
        assert cfg.train_dataloader[key] == compared.train_dataloader[key], key
    for key in ('type', 'split', 'pipeline', 'in_memory'):
        assert cfg.train_dataloader.dataset[key] == compared.train_dataloader.dataset[key], key
    assert not cfg.train_dataloader.dataset.get('subset_size')
    hooks = [{k: v for k, v in h.items()} for h in cfg.custom_hooks]
    assert hooks == [{k: v for k, v in h.items()} for h in compared.custom_hooks]
