"""The resolved precision applied to a training config, and the thread count."""
import pytest
import torch
from mmengine.config import Config

from moco_plugin.engine.runtime_choice import PRECISION_KEY, apply_precision, set_threads
from moco_plugin.utils.device_precision import PrecisionChoice


def _cfg(**wrapper):
    return Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1),
                                          **wrapper)))


@pytest.mark.parametrize('precision, device, wrapper, dtype', [
    ('fp32', 'cpu', 'OptimWrapper', None), ('bf16', 'cpu', 'AutocastOptimWrapper', 'bfloat16'),
    ('bf16', 'cuda', 'AutocastOptimWrapper', 'bfloat16'),
    ('fp16', 'cpu', 'AutocastOptimWrapper', 'float16'), ('fp16', 'cuda', 'AmpOptimWrapper', None)])
def test_apply_precision_sets_the_wrapper_and_records_the_choice(precision, device, wrapper, dtype):
    cfg = _cfg()
    choice = PrecisionChoice('auto', precision, device, 'because')
    apply_precision(cfg, choice)
    assert cfg.optim_wrapper.type == wrapper
    assert cfg.optim_wrapper.get('dtype') == dtype
    assert cfg.optim_wrapper.optimizer.lr == 0.1  # the rest of the wrapper is kept
    assert cfg[PRECISION_KEY] == choice.as_dict()
    if wrapper == 'AmpOptimWrapper':
        assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_fp32_over_a_mixed_precision_config_turns_autocast_off():
    cfg = _cfg(dtype='bfloat16')
    cfg.optim_wrapper.type = 'AutocastOptimWrapper'
    apply_precision(cfg, PrecisionChoice('fp32', 'fp32', 'cpu', 'asked for'))
    assert cfg.optim_wrapper.type == 'OptimWrapper' and 'dtype' not in cfg.optim_wrapper


def test_set_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert set_threads(1)['threads'] == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
        monkeypatch.delenv('MOCO_NUM_THREADS', raising=False)
        monkeypatch.setenv('LOCAL_WORLD_SIZE', '64')  # more processes than cores: one each
        assert set_threads()['threads'] == 1
        monkeypatch.setenv('LOCAL_WORLD_SIZE', '1')
        result = set_threads()
        assert result['threads'] == result['cores'] == torch.get_num_threads()
        monkeypatch.setenv('MOCO_NUM_THREADS', '1')
        monkeypatch.setenv('LOCAL_WORLD_SIZE', '1')
        assert set_threads()['threads'] == 1
        with pytest.raises(ValueError, match='--threads'):
            set_threads(0)
    finally:
        torch.set_num_threads(before)
