"""The CPU-budget MoCo v2 config (benchmarks/README.md's comparison setting) trains through tools/train.py."""
import math

from mmengine.config import Config

from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool

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
