"""Resuming at another world size (torchrun, gloo): epoch checkpoints continue, checkpoints
saved inside an epoch are refused in one line naming both sizes, in both directions.

32 synthetic images, batch 8 per process: 2 iterations per epoch on 2 processes, 4 on 1.
A preemption signal that only rank 0 receives stops every process (``SignalSelfHook``).
"""
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool
from tests.test_tools.test_train_distributed import CONFIG, _synthetic_cifar, pytestmark  # noqa: F401

TINY = ['train_dataloader.batch_size=8', 'train_dataloader.dataset.subset_size=32',
        'train_dataloader.num_workers=1', 'model.queue_len=64', 'model.bn_splits=1',
        'model.backbone.cifar_stem=False', 'train_cfg.max_epochs=3', 'param_scheduler.0.T_max=3',
        'param_scheduler.0.end=3', 'default_hooks.checkpoint.interval=1']
ENV = {'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO_ROOT)}


def _signal_config(tmp_path, at: int):
    config = tmp_path / f'signal_at_{at}.py'
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


def _output(result) -> str:
    return result.stdout + result.stderr


def test_resume_from_two_processes_on_one_and_from_one_on_two(tmp_path):
    data_root = _synthetic_cifar(tmp_path / 'data')
    two, one = tmp_path / 'two', tmp_path / 'one'
    # 2 processes; rank 0 alone is signalled during iteration 3 (epoch 2): both save, exit 75
    run = _train(2, _signal_config(tmp_path, at=2), two, data_root)
    assert run.returncode != 0 and 'exitcode  : 75' in _output(run), _output(run)[-4000:]
    assert 'SIGUSR1 received: saved' in _output(run)
    inside = safe_torch_load(str(two / 'iter_3.pth'))['meta']
    assert inside['world_size'] == 2 and len(inside['rng_state_per_rank']) == 2
    assert inside['data_position']['consumed_batches'] == 1
    assert len(inside['data_position']['per_rank']) == 2

    # 2 -> 1, inside an epoch: refused
    refused = _train(1, CONFIG, tmp_path / 'refused_1', data_root, '--resume', str(two / 'iter_3.pth'))
    assert refused.returncode == 2
    assert 'iter_3.pth was saved inside an epoch at world size 2 and this run has world size 1' \
        in _last_error(refused)

    # 2 -> 1 at an epoch end: continues (epoch 2 with 4 iterations), preempted in epoch 3
    run = _train(1, _signal_config(tmp_path, at=9), one, data_root, '--resume', str(two / 'epoch_1.pth'))
    assert run.returncode == 75, run.stderr[-3000:]
    assert 'resuming a run of world size 2 at world size 1: after epoch 1, 4 iterations per epoch' \
        in _output(run)
    meta = safe_torch_load(str(one / 'epoch_2.pth'))['meta']
    assert (meta['epoch'], meta['iter'], meta['world_size']) == (2, 8, 1)

    # 1 -> 2, inside an epoch: refused
    refused = _train(2, CONFIG, tmp_path / 'refused_2', data_root, '--resume', str(one / 'iter_10.pth'))
    assert refused.returncode != 0
    assert 'iter_10.pth was saved inside an epoch at world size 1 and this run has world size 2' \
        in _last_error(refused)

    # 1 -> 2 at an epoch end: continues (epoch 3 with 2 iterations)
    resumed = _train(2, CONFIG, tmp_path / 'resumed_2', data_root, '--resume', str(one / 'epoch_2.pth'))
    assert resumed.returncode == 0, _output(resumed)[-4000:]
    assert 'resuming a run of world size 1 at world size 2: after epoch 2, 2 iterations per epoch' \
        in _output(resumed)
    checkpoint = safe_torch_load(str(tmp_path / 'resumed_2' / 'epoch_3.pth'))
    assert (checkpoint['meta']['epoch'], checkpoint['meta']['iter']) == (3, 6)
    assert len(checkpoint['meta']['rng_state_per_rank']) == 2
    # the queue is global: 2 x 16 keys, then 4 x 8, then 2 x 16 = 96 keys, 96 mod 64 = 32
    assert checkpoint['state_dict']['queue.ptr'].item() == 32
