"""Resuming at another world size (torchrun, gloo): epoch checkpoints continue, checkpoints
saved inside an epoch are refused in one line naming both sizes.

48 synthetic images, batch 8 per process: 3 iterations per epoch on 2 processes, 6 on 1.
A preemption signal that only one process receives stops every process (``SignalSelfHook``).
"""
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool
from tests.test_tools.test_train_distributed import CONFIG, _synthetic_cifar, pytestmark  # noqa: F401

TINY = ['train_dataloader.batch_size=8', 'train_dataloader.num_workers=1', 'model.queue_len=64',
        'model.bn_splits=1', 'model.backbone.cifar_stem=False', 'train_cfg.max_epochs=2',
        'param_scheduler.0.T_max=2', 'param_scheduler.0.end=2']
ENV = {'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO_ROOT)}


def _signal_config(tmp_path, at: int):
    config = tmp_path / 'signal_config.py'
    config.write_text(
        f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
        "custom_imports = dict(imports=['tests.helpers.preempt_hook'], allow_failed_imports=False)\n"
        f"default_hooks = dict(signal=dict(type='SignalSelfHook', at={at}, rank=0))\n")
    return config


def _train(processes: int, config, work_dir, data_root, *extra):
    launch = (['-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={processes}']
              if processes > 1 else [])
    return run_tool(*launch, 'tools/train.py', str(config), '--work-dir', str(work_dir),
                    '--data-root', str(data_root), *(['--launcher', 'pytorch'] if launch else []),
                    *extra, '--cfg-options', *TINY, env=ENV, timeout=300)


def _last_error(result) -> str:
    return next(line for line in reversed(result.stderr.splitlines()) if 'train.py: error:' in line)


def test_two_process_run_resumed_on_one(tmp_path):
    data_root = _synthetic_cifar(tmp_path / 'data')
    work_dir = tmp_path / 'two'
    # rank 0 alone is signalled during iteration 5 (epoch 2): both ranks save and exit 75
    run = _train(2, _signal_config(tmp_path, at=4), work_dir, data_root)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and 'exitcode  : 75' in output, output[-4000:]
    assert 'SIGUSR1 received: saved' in output
    inside = safe_torch_load(str(work_dir / 'iter_5.pth'))['meta']
    assert inside['world_size'] == 2 and len(inside['rng_state_per_rank']) == 2
    assert inside['data_position']['consumed_batches'] == 2
    assert len(inside['data_position']['per_rank']) == 2

    refused = _train(1, CONFIG, tmp_path / 'one_a', data_root, '--resume', str(work_dir / 'iter_5.pth'))
    assert refused.returncode == 2
    assert 'iter_5.pth was saved inside an epoch at world size 2 and this run has world size 1' \
        in _last_error(refused)

    resumed = _train(1, CONFIG, tmp_path / 'one_b', data_root, '--resume', str(work_dir / 'epoch_1.pth'))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resuming a run of world size 2 at world size 1: after epoch 1, 6 iterations per epoch' \
        in resumed.stdout + resumed.stderr
    meta = safe_torch_load(str(tmp_path / 'one_b' / 'epoch_2.pth'))['meta']
    assert (meta['epoch'], meta['iter'], meta['world_size']) == (2, 12, 1)


def test_one_process_run_resumed_on_two(tmp_path):
    data_root = _synthetic_cifar(tmp_path / 'data')
    work_dir = tmp_path / 'one'
    run = _train(1, _signal_config(tmp_path, at=8), work_dir, data_root)  # epoch 2, batch 3 of 6
    assert run.returncode == 75, run.stderr[-3000:]

    refused = _train(2, CONFIG, tmp_path / 'two_a', data_root, '--resume', str(work_dir / 'iter_9.pth'))
    assert refused.returncode != 0
    assert 'iter_9.pth was saved inside an epoch at world size 1 and this run has world size 2' \
        in _last_error(refused)

    resumed = _train(2, CONFIG, tmp_path / 'two_b', data_root, '--resume', str(work_dir / 'epoch_1.pth'))
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-4000:]
    assert 'resuming a run of world size 1 at world size 2: after epoch 1, 3 iterations per epoch' \
        in resumed.stdout + resumed.stderr
    checkpoint = safe_torch_load(str(tmp_path / 'two_b' / 'epoch_2.pth'))
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (2, 6)
    assert len(checkpoint['meta']['rng_state_per_rank']) == 2
    # the queue is global: 3 more steps of 2 x 8 keys after epoch 1's 6 x 8 (= 48 = 48 mod 64)
    assert checkpoint['state_dict']['queue.ptr'].item() == (48 + 3 * 16) % 64
