"""engine/train_config.py: the config tools/train.py runs, built from explicit options."""
import pytest
import torch

from moco_plugin.engine.checkpoint_io import read_checkpoint
from moco_plugin.engine.train_config import (TrainOptions, build_train_config, check_resumable,
                                             set_data_root)

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'


def test_options_become_the_config(tmp_path):
    cfg, choice = build_train_config(TrainOptions(
        CONFIG, device='cpu', precision='fp32', work_dir=str(tmp_path), resume='auto',
        cfg_options={'train_cfg.max_epochs': 1}, data_root=str(tmp_path)))
    assert cfg.work_dir == str(tmp_path) and cfg.train_cfg.max_epochs == 1
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.train_dataloader.dataset['data_root'] == str(tmp_path)
    assert choice.precision == 'fp32' and cfg.precision_choice['requested'] == 'fp32'


def test_resume_path_and_the_default_work_dir():
    cfg, _ = build_train_config(TrainOptions(CONFIG, precision='fp32', resume='x.pth'))
    assert cfg.resume is True and cfg.load_from == 'x.pth'
    assert cfg.work_dir.endswith('mocov2_resnet18_1xb256-coslr-200e_cifar10')


def test_a_cpu_launch_gets_ddp_without_device_ids():
    cfg, _ = build_train_config(TrainOptions(CONFIG, precision='fp32', launcher='pytorch'))
    assert cfg.model_wrapper_cfg['device_ids'] is None


def test_set_data_root_refuses_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='is not a folder'):
        set_data_root({}, str(tmp_path / 'nope'))


def test_check_resumable_reads_through_the_engine_loader(tmp_path):
    weights = tmp_path / 'weights.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, weights)
    assert set(read_checkpoint(str(weights))) == {'state_dict'}
    with pytest.raises(ValueError, match='holds weights but no training state'):
        check_resumable(str(weights))
    with pytest.raises(FileNotFoundError, match='no such checkpoint file'):
        check_resumable(str(tmp_path / 'missing.pth'))
    state = tmp_path / 'state.pth'
    torch.save({'state_dict': {}, 'meta': {'epoch': 1}, 'optimizer': {}}, state)
    check_resumable(str(state))
