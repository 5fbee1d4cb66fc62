"""benchmarks/compare_cpu.py applies one budget to every algorithm (the full run is the lead's)."""
import importlib.util

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope='module')
def driver():
    spec = importlib.util.spec_from_file_location('compare_cpu', REPO_ROOT / 'benchmarks/compare_cpu.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_algorithm_gets_the_same_budget(driver, tmp_path):
    args = driver.parse_args(['--data-root', str(tmp_path), '--epochs', '3', '--subset', '256',
                              '--batch-size', '64', '--stem', 'imagenet', '--lr', '0.06'])
    for algorithm in driver.DEFAULT_ALGORITHMS:
        cfg = driver.budget_config(algorithm, args)
        loader = cfg.train_dataloader
        assert (loader.batch_size, loader.dataset.subset_size, loader.dataset.data_root) == \
            (64, 256, str(tmp_path))
        assert cfg.train_cfg.max_epochs == 3 and cfg.optim_wrapper.optimizer.lr == 0.06
        assert cfg.param_scheduler[0].T_max == 3 and not cfg.model.backbone.cifar_stem
        monitors = [h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook']
        assert len(monitors) == (0 if algorithm == 'random' else 1)
    byol_hooks = [h['type'] for h in driver.budget_config('byol', args).custom_hooks]
    assert byol_hooks == ['MomentumUpdateHook', 'KNNMonitorHook']


def test_refuses_a_batch_that_splits_badly_for_moco(driver, tmp_path):
    args = driver.parse_args(['--data-root', str(tmp_path), '--batch-size', '60', '--subset', '120'])
    with pytest.raises(SystemExit, match='multiple of'):
        driver.budget_config('mocov2', args)
