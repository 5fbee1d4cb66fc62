"""tools/train.py preempted by SIGTERM inside an epoch, then resumed: the same run as without."""
import os
import signal
import subprocess
import sys
import time

import torch

from tests.conftest import REPO_ROOT
from tests.test_tools.test_train import CONFIG, TINY, _state, _train

EPOCHS = ['train_cfg.max_epochs=2', 'param_scheduler.0.T_max=2', 'param_scheduler.0.end=2']
STOP_AT = 5  # 0-based: the second of the 4 iterations of epoch 2


def _preempted_run(work_dir, config, env):
    """Start training, send SIGTERM from here while iteration STOP_AT is in progress."""
    command = [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir),
               '--cfg-options', *TINY, *EPOCHS]
    log = work_dir.parent / f'{work_dir.name}.out'  # a file, not a pipe nobody reads meanwhile
    with open(log, 'w') as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
        marker = work_dir / 'waiting'
        deadline = time.monotonic() + 300
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if marker.exists():
            process.send_signal(signal.SIGTERM)  # as slurm, Kubernetes and spot instances do
        process.wait(timeout=300)
    assert marker.exists(), 'the run never reached the iteration to preempt: ' + log.read_text()[-3000:]
    return process.returncode, log.read_text()


def test_sigterm_inside_epoch_2_checkpoints_and_resumes_to_the_uninterrupted_run(cifar_root, tmp_path):
    env = {'MOCO_DATA_ROOT': str(cifar_root), 'PYTHONPATH': str(REPO_ROOT), 'OMP_NUM_THREADS': '1'}
    straight = _train(tmp_path / 'straight', cfg_options=EPOCHS, env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]

    config = tmp_path / 'preempt_config.py'
    config.write_text(  # a second signal (SIGUSR1) arrives while the checkpoint is written
        f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
        "custom_imports = dict(imports=['tests.helpers.preempt_hook'], allow_failed_imports=False)\n"
        f"default_hooks = dict(wait=dict(type='WaitForSignalHook', at={STOP_AT}, "
        "again_during_save=True))\n")
    work_dir = tmp_path / 'preempted'
    code, output = _preempted_run(work_dir, config, env)
    assert code == 75, output[-3000:]
    done = STOP_AT + 1
    assert f'SIGTERM received: saved {work_dir / f"iter_{done}.pth"} after iteration {done} ' \
           '(epoch 2) (SIGUSR1 during the save: ignored); exiting with code 75' in output
    assert (work_dir / 'last_checkpoint').read_text().strip() == str(work_dir / f'iter_{done}.pth')
    assert not (work_dir / 'epoch_2.pth').exists() and not list(work_dir.glob('.*.tmp'))
    position = _state(work_dir / f'iter_{done}.pth')['meta']['data_position']
    assert (position['epoch'], position['consumed_batches'], position['num_workers']) == (1, 2, 1)

    resumed = _train(work_dir, '--resume', cfg_options=EPOCHS, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resuming inside epoch 2: 2 of its 4 batches are done' in resumed.stdout + resumed.stderr

    a = _state(tmp_path / 'straight' / 'epoch_2.pth')
    b = _state(work_dir / 'epoch_2.pth')
    assert a['meta']['iter'] == b['meta']['iter'] == 8
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():  # weights, key encoder, queue, pointer
        torch.testing.assert_close(b['state_dict'][key], value, rtol=1e-5, atol=1e-6, msg=key)
    for x, y in zip(a['optimizer']['state'].values(), b['optimizer']['state'].values()):
        torch.testing.assert_close(y['momentum_buffer'], x['momentum_buffer'], rtol=1e-5, atol=1e-6)
    assert a['param_schedulers'] == b['param_schedulers']
    assert torch.equal(a['meta']['rng_state']['torch'], b['meta']['rng_state']['torch'])
