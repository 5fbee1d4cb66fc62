"""tools/train.py end to end on a small subset of the real CIFAR-10."""
import json
import math
import signal
from pathlib import Path

import pytest
import torch

from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
# A CPU-light version of the real config: ImageNet stem on 32 px, 64 images, batch 16.
TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=64',
        'train_dataloader.num_workers=1', 'model.queue_len=64', 'model.bn_splits=4',
        'model.backbone.cifar_stem=False', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1']


def _train(work_dir: Path, *extra: str, config: str = CONFIG, cfg_options=(), env=None):
    options = [*TINY, *cfg_options]
    return run_tool('tools/train.py', config, '--work-dir', str(work_dir), *extra,
                    '--cfg-options', *options, env=env)


def _state(path: Path) -> dict:
    return safe_torch_load(str(path))


def test_pretrains_few_iterations_on_real_cifar(cifar_root, tmp_path):
    work_dir = tmp_path / 'run'
    result = _train(work_dir, '--data-root', str(cifar_root),
                    cfg_options=['train_cfg.max_epochs=1'])
    assert result.returncode == 0, result.stderr[-3000:]
    checkpoint = _state(work_dir / 'epoch_1.pth')
    state = checkpoint['state_dict']
    assert state['queue.features'].shape == (64, 128)
    assert state['queue.ptr'].item() == 0  # 4 steps x 16 keys wrapped exactly once around K=64
    assert not torch.equal(state['backbone.conv1.weight'], state['key_backbone.conv1.weight'])
    assert 'rng_state' in checkpoint['meta']
    scalars = [json.loads(line) for line in
               next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    losses = [s['loss'] for s in scalars if 'loss' in s]
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    assert all(0 < v < 2 * math.log(65) for v in losses)
    assert (work_dir / 'loss_curve.png').stat().st_size > 1000
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')


def test_own_image_masking_and_empty_start_through_train_py(cifar_root, tmp_path):
    work_dir = tmp_path / 'masked'
    result = _train(work_dir, '--data-root', str(cifar_root), cfg_options=[
        'train_cfg.max_epochs=2', 'param_scheduler.0.T_max=2', 'param_scheduler.0.end=2',
        'model.mask_own_negatives=True', 'model.queue_init=empty'])
    assert result.returncode == 0, result.stderr[-3000:]
    scalars = [json.loads(line) for line in
               next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    steps = [s for s in scalars if 'queue/initial_fill_share' in s]
    # K = 64, 16 keys per step: the empty slots are written after K / B = 4 steps
    assert [s['queue/initial_fill_share'] for s in steps] == [1.0, 0.75, 0.5, 0.25, 0, 0, 0, 0]
    # epoch 1 shows each of the 64 images once; epoch 2 starts with all 64 in the queue, then
    # each step overwrites 16 epoch-1 keys (of images that may come later in the epoch)
    shares = [s['queue/own_image_share'] for s in steps]
    assert shares[:5] == [0.0] * 4 + [1.0] and all(0 < v <= 1 for v in shares[5:])
    assert steps[0]['loss'] == 0.0  # every negative masked: only the positive in the softmax
    assert all(0 < s['loss'] < 2 * math.log(65) for s in steps[1:])
    indices = _state(work_dir / 'epoch_2.pth')['state_dict']['queue.indices']
    assert len(set(indices.tolist())) == 64 and int(indices.min()) >= 0


def test_killed_and_resumed_run_equals_uninterrupted_run(cifar_root, tmp_path):
    env = {'MOCO_DATA_ROOT': str(cifar_root), 'PYTHONPATH': str(REPO_ROOT)}
    epochs = ['train_cfg.max_epochs=2', 'param_scheduler.0.T_max=2', 'param_scheduler.0.end=2']
    straight = _train(tmp_path / 'straight', cfg_options=epochs, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]

    crash_config = tmp_path / 'crash_config.py'
    crash_config.write_text(
        f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
        "custom_imports = dict(imports=['tests.helpers.crash_hook'], allow_failed_imports=False)\n"
        "default_hooks = dict(crash=dict(type='SigkillAfterEpochHook', epoch=1))\n")
    crashed = _train(tmp_path / 'resumed', config=str(crash_config), cfg_options=epochs, env=env)
    assert crashed.returncode == -signal.SIGKILL
    assert not (tmp_path / 'resumed' / 'epoch_2.pth').exists()
    resumed = _train(tmp_path / 'resumed', '--resume', cfg_options=epochs, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'Resumed from' in resumed.stdout + resumed.stderr or 'resumed' in (resumed.stdout + resumed.stderr).lower()

    a = _state(tmp_path / 'straight' / 'epoch_2.pth')
    b = _state(tmp_path / 'resumed' / 'epoch_2.pth')
    assert a['meta']['iter'] == b['meta']['iter'] == 8
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():  # weights, key encoder, queue, pointer
        torch.testing.assert_close(b['state_dict'][key], value, rtol=1e-5, atol=1e-6, msg=key)
    momenta_a = [s['momentum_buffer'] for s in a['optimizer']['state'].values()]
    momenta_b = [s['momentum_buffer'] for s in b['optimizer']['state'].values()]
    for x, y in zip(momenta_a, momenta_b):
        torch.testing.assert_close(y, x, rtol=1e-5, atol=1e-6)
    assert a['param_schedulers'] == b['param_schedulers']


@pytest.mark.parametrize('options, expected', [
    (['model.type=MoCov2'], "unknown type 'MoCov2'.*Did you mean: MoCo"),
    (['model.queue_lenn=64'], "config key 'queue_lenn' is not an argument of MoCo; did you mean queue_len"),
    (['model.queue_len=60'], 'queue length 60 is not a multiple .* multiple of 16'),
])
def test_bad_config_gives_one_line_error(cifar_root, tmp_path, options, expected):
    import re
    result = _train(tmp_path / 'bad', '--data-root', str(cifar_root), cfg_options=options)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('train.py: error: ') and re.search(expected, last), last
    assert 'Traceback' not in result.stderr


def test_missing_dataset_and_config_errors(tmp_path):
    missing_data = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'x'),
                            '--data-root', str(tmp_path / 'no_such_dir'))
    assert missing_data.returncode == 2
    assert '--data-root' in missing_data.stderr.splitlines()[-1]
    empty = tmp_path / 'empty'
    empty.mkdir()
    no_cifar = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'y'), '--data-root', str(empty))
    assert no_cifar.returncode == 2 and 'CIFAR-10 not found' in no_cifar.stderr.splitlines()[-1]
    missing_config = run_tool('tools/train.py', 'configs/nope.py')
    assert missing_config.returncode == 2
    assert 'config not found: configs/nope.py' in missing_config.stderr


def test_bad_cli_argument_is_rejected_by_argparse():
    result = run_tool('tools/train.py', CONFIG, '--launcher', 'mpi')
    assert result.returncode == 2 and "invalid choice: 'mpi'" in result.stderr


def test_truncated_resume_checkpoint_is_reported(cifar_root, tmp_path):
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(b'PK\x03\x04 truncated')
    result = _train(tmp_path / 'r', '--resume', str(broken), '--data-root', str(cifar_root),
                    cfg_options=['train_cfg.max_epochs=1'])
    assert result.returncode == 2
    assert 'truncated or not a torch checkpoint' in result.stderr.splitlines()[-1]


def test_resume_from_weights_only_checkpoint_suggests_load_from(tmp_path):
    weights = tmp_path / 'weights.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(1)}}, weights)
    result = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'), '--resume', str(weights))
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert 'no training state' in last and f'--cfg-options load_from={weights}' in last


def test_moco_config_without_queue_hook_fails_at_train_start(cifar_root, tmp_path):
    config = tmp_path / 'no_queue_hook.py'
    config.write_text(f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
                      "custom_hooks = [dict(type='MomentumUpdateHook')]\n")
    result = _train(tmp_path / 'noqueue', '--data-root', str(cifar_root), config=str(config),
                    cfg_options=['train_cfg.max_epochs=1'])
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert "MoCo trains without QueueHook" in last and "add dict(type='QueueHook')" in last
    assert not list((tmp_path / 'noqueue').glob('epoch_*.pth'))


def test_config_by_name_from_another_working_directory(cifar_root, tmp_path):
    # A packaged config name, run from a folder that is not the checkout.
    name = 'mocov2_resnet18_1xb256-coslr-200e_cifar10'
    result = run_tool(str(REPO_ROOT / 'tools/train.py'), name, '--work-dir', str(tmp_path / 'n'),
                      '--data-root', str(Path(cifar_root).resolve()), '--cfg-options', *TINY,
                      'train_cfg.max_epochs=1', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / 'n' / 'epoch_1.pth').is_file()
    listed = run_tool(str(REPO_ROOT / 'tools/train.py'), '--list-configs', cwd=tmp_path)
    assert name in listed.stdout.split() and 'default_runtime' not in listed.stdout
