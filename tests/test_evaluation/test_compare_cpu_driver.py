"""benchmarks/scripts/compare_cpu.py applies one budget to every algorithm (the full run is the lead's)."""

import pytest

from tests.conftest import REPO_ROOT
from tests.helpers.scripts import load_script


@pytest.fixture(scope='module')
def driver():
    return load_script('compare_cpu')


def test_every_algorithm_gets_the_same_budget(driver, tmp_path):
    args = driver.parse_args(['--data-root', str(tmp_path), '--epochs', '3', '--subset', '256',
                              '--batch-size', '64', '--stem', 'imagenet', '--lr', '0.06'])
    for algorithm in driver.DEFAULT_ALGORITHMS:
        cfg = driver.budget_config(algorithm, args)
        loader = cfg.train_dataloader
        assert (loader.batch_size, loader.dataset.subset_size, loader.dataset.data_root) == \
            (64, 256, str(tmp_path))
        assert cfg.train_cfg.max_epochs == 3 and cfg.optim_wrapper.optimizer.lr == 0.06
        scheduler = cfg.param_scheduler[0]
        if scheduler.type == 'MultiStepLR':  # MoCo v1's steps at 120 and 160 of 200 epochs
            assert scheduler.milestones == [2, 2]
        else:
            assert scheduler.T_max == 3
        assert not cfg.model.backbone.cifar_stem
        monitors = [h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook']
        assert len(monitors) == (0 if algorithm == 'random' else 1)
    byol_hooks = [h['type'] for h in driver.budget_config('byol', args).custom_hooks]
    assert byol_hooks == ['MomentumUpdateHook', 'KNNMonitorHook']


def test_refuses_a_batch_that_splits_badly_for_moco(driver, tmp_path):
    args = driver.parse_args(['--data-root', str(tmp_path), '--batch-size', '60', '--subset', '120'])
    with pytest.raises(SystemExit, match='multiple of'):
        driver.budget_config('mocov2', args)


def test_shared_optimizer_augmentation_and_stem(driver, tmp_path):
    args = driver.parse_args(['--data-root', str(tmp_path), '--batch-size', '64', '--subset', '256',
                              '--optimizer', 'adamw', '--fast-aug', '--jitter-strength', '0.5',
                              '--gray-prob', '0', '--bn-splits', '4', '--stem', 'imagenet-nopool'])
    for algorithm in ('mocov2', 'mocov1', 'simclr', 'byol', 'simsiam'):
        cfg = driver.budget_config(algorithm, args)
        assert cfg.optim_wrapper.optimizer.to_dict() == dict(type='AdamW', lr=5e-4, weight_decay=1e-4)
        augment = cfg.model.data_preprocessor.batch_augment
        assert (augment.brightness, augment.contrast, augment.saturation, augment.hue) == (0.2, 0.2, 0.2, 0.05)
        assert augment.grayscale_prob == 0 and augment.jitter_prob == 0.8
        assert cfg.train_dataloader.dataset.pipeline == [dict(type='UnaugmentedViews', num_views=2)]
        assert not cfg.model.backbone.cifar_stem and not cfg.model.backbone.stem_pool
    assert driver.budget_config('mocov2', args).model.bn_splits == 4
    supervised = driver.budget_config('supervised', args)
    assert 'batch_augment' not in supervised.model.data_preprocessor  # one labelled view, its own pipeline


def test_per_image_augmentation_gets_the_same_strength(driver, tmp_path):
    args = driver.parse_args(['--data-root', str(tmp_path), '--jitter-strength', '0.5', '--gray-prob', '0.1'])
    view = driver.budget_config('simclr', args).train_dataloader.dataset.pipeline[0].transforms[0]
    assert (view.type, view.jitter_strength, view.gray_prob) == ('MoCoV2Augment', 0.5, 0.1)
    args = driver.parse_args(['--data-root', str(tmp_path), '--optimizer', 'adamw', '--lr', '1e-3'])
    assert driver.budget_config('byol', args).optim_wrapper.optimizer.lr == 1e-3


@pytest.mark.parametrize('flags, message', [
    (['--jobs', '0'], '--jobs and --bn-splits must be >= 1'),
    (['--bn-splits', '0'], '--jobs and --bn-splits must be >= 1'),
    (['--gray-prob', '1.5'], '--gray-prob in [0, 1], got 1.0 and 1.5'),
    (['--jitter-strength', '-1'], '--jitter-strength must be >= 0'),
])
def test_bad_budget_flags_are_one_line_usage_errors(driver, tmp_path, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        driver.parse_args(['--data-root', str(tmp_path), *flags])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert message in error


def test_fast_aug_takes_the_fastaug_config_and_only_changes_the_colour(driver, tmp_path):
    from mmengine.config import Config
    fast = Config.fromfile(str(REPO_ROOT / driver.FASTAUG_CONFIG))
    args = driver.parse_args(['--data-root', str(tmp_path), '--fast-aug'])
    cfg = driver.budget_config('simclr', args)
    assert cfg.model.data_preprocessor.batch_augment == fast.model.data_preprocessor.batch_augment
    assert cfg.train_dataloader.dataset.pipeline == fast.train_dataloader.dataset.pipeline
