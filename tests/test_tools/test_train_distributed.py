"""tools/train.py under torchrun: 2 CPU processes (gloo), a tiny synthetic dataset."""
import time

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
from PIL import Image

from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool
from tests.helpers.network import free_port
from tests.helpers.rank_state_hook import tensor_digest

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
WORLD_SIZE = 2
BATCH = 8  # per rank
QUEUE_LEN = 64
IMAGES = 48  # 24 per rank: 3 iterations per epoch
EPOCHS = 2
ITERS = EPOCHS * IMAGES // (WORLD_SIZE * BATCH)
# ImageNet stem on 32 px and plain BN (bn_splits=1): with two processes the key batch
# is shuffled across ranks, which is the shuffle-BN path this test is about.
TINY = [f'train_dataloader.batch_size={BATCH}', 'train_dataloader.num_workers=1',
        f'model.queue_len={QUEUE_LEN}', 'model.bn_splits=1', 'model.backbone.cifar_stem=False',
        f'train_cfg.max_epochs={EPOCHS}', f'param_scheduler.0.T_max={EPOCHS}',
        f'param_scheduler.0.end={EPOCHS}', 'default_hooks.logger.interval=1']

pytestmark = pytest.mark.skipif(
    not (torch_dist.is_available() and torch_dist.is_gloo_available()),
    reason='torch.distributed with the gloo backend is not available in this torch build')


def _synthetic_cifar(root):
    """``root/{train,test}/<class>/*.png``, the image-folder layout CIFAR10 reads.

    Every training image is the same picture, so the batches of two ranks can only
    differ through their random augmentations.
    """
    picture = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for split, count in (('train', IMAGES), ('test', 8)):
        for i in range(count):
            folder = root / split / ('cat', 'dog')[i % 2]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(picture).save(folder / f'{i}.png')
    return root


def _dist_config(tmp_path, knn_monitor: bool = True):
    """The MoCo v2 config plus the hook that dumps every rank's state."""
    config = tmp_path / 'dist_config.py'
    # every rank runs the k-NN monitor (its own forward, no collectives) once, at the end
    monitor = (f"dict(type='KNNMonitorHook', interval={EPOCHS}, k=5, bank_size=16, query_size=8, "
               "batch_size=16)") if knn_monitor else ''
    config.write_text(
        f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
        "custom_imports = dict(imports=['tests.helpers.rank_state_hook'], allow_failed_imports=False)\n"
        "default_hooks = dict(dump=dict(type='DumpRankStateHook'))\n"
        "model = dict(momentum=0.99)\n"
        "custom_hooks = [dict(type='MomentumUpdateHook'), dict(type='QueueHook'),\n"
        f"                {monitor}]\n")
    return config


def test_two_process_training_keeps_ranks_in_sync(tmp_path):
    data_root = _synthetic_cifar(tmp_path / 'data')
    config = _dist_config(tmp_path)
    work_dir = tmp_path / 'run'
    start = time.monotonic()
    result = run_tool('-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={WORLD_SIZE}',
                      'tools/train.py', str(config), '--launcher', 'pytorch',
                      '--work-dir', str(work_dir), '--data-root', str(data_root),
                      '--cfg-options', *TINY,
                      env={'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO_ROOT)}, timeout=300)
    print(f'torchrun wall time: {time.monotonic() - start:.1f} s')
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]

    ranks = [torch.load(work_dir / f'queue_rank{r}.pt', weights_only=False) for r in range(WORLD_SIZE)]
    assert [s['rank'] for s in ranks] == list(range(WORLD_SIZE))
    assert all(s['world_size'] == WORLD_SIZE and s['iter'] == ITERS for s in ranks)

    # the queue: the same keys in the same order on every rank; the pointer moved by
    # every rank's keys of every step (6 x 16 = 96 = 32 mod 64, so it wrapped once)
    first, second = ranks
    assert torch.equal(first['queue_features'], second['queue_features'])
    assert first['queue_ptr'].item() == second['queue_ptr'].item() == ITERS * WORLD_SIZE * BATCH % QUEUE_LEN
    norms = first['queue_features'].norm(dim=1)
    torch.testing.assert_close(norms, torch.ones_like(norms))

    # DDP: query encoder bitwise equal after the gradient all-reduce; the key encoder is
    # an EMA of it, so it is equal too
    assert first['param_digests'] == second['param_digests']
    assert first['buffer_digests']['queue.features'] == second['buffer_digests']['queue.features']

    # same picture everywhere, so equal first batches would mean every rank drew the same
    # crops/flips/jitter: the data-loader workers of different ranks must be seeded apart
    assert all(not torch.equal(a, b) for a, b in zip(first['first_batch'], second['first_batch']))

    # one checkpoint, written by rank 0 only, with the state the ranks agree on
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [f'epoch_{EPOCHS}.pth']
    assert not list(work_dir.glob('.*.tmp'))
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith(f'epoch_{EPOCHS}.pth')
    checkpoint = safe_torch_load(str(work_dir / f'epoch_{EPOCHS}.pth'))
    assert checkpoint['meta']['iter'] == ITERS and checkpoint['meta']['epoch'] == EPOCHS
    state = checkpoint['state_dict']
    assert torch.equal(state['queue.features'], first['queue_features'])
    assert state['queue.ptr'].item() == first['queue_ptr'].item()
    assert {n: tensor_digest(state[n]) for n in first['param_digests']} == first['param_digests']
    # the momentum update ran: the key encoder left the query encoder it was copied from
    for query, key in (('backbone.conv1.weight', 'key_backbone.conv1.weight'),
                       ('neck.head.layers.0.weight', 'key_neck.head.layers.0.weight')):
        assert not torch.equal(state[query], state[key]), key
    assert [h['epoch'] for h in checkpoint['meta']['knn_history']] == [EPOCHS]
    assert (work_dir / 'knn_curve.png').is_file() and (work_dir / 'loss_curve.png').is_file()
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log  # MMEngine calls the world size "GPU number"
    assert f'k-NN monitor (epoch {EPOCHS}' in log


def test_main_process_augmentation_rng_and_knn_monitor_are_per_rank(tmp_path):
    """num_workers=0: the per-image augmentations run in each rank's main process."""
    data_root = _synthetic_cifar(tmp_path / 'data')
    config = tmp_path / 'config.py'
    config.write_text(
        f"_base_ = ['{REPO_ROOT / CONFIG}']\n"
        "custom_imports = dict(imports=['tests.helpers.rank_state_hook'], allow_failed_imports=False)\n"
        "default_hooks = dict(dump=dict(type='DumpRankStateHook'))\n"
        "model = dict(momentum=0.99)\n"
        "custom_hooks = [dict(type='MomentumUpdateHook'), dict(type='QueueHook'),\n"
        "                dict(type='CountingKNNMonitorHook', interval=1, k=5, bank_size=16,\n"
        "                     query_size=8, batch_size=16)]\n")
    work_dir = tmp_path / 'run'
    options = [o for o in TINY if not o.startswith(('train_dataloader.num_workers', 'train_cfg.max'))]
    result = run_tool('-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={WORLD_SIZE}',
                      'tools/train.py', str(config), '--launcher', 'pytorch',
                      '--work-dir', str(work_dir), '--data-root', str(data_root),
                      '--cfg-options', *options, 'train_dataloader.num_workers=0',
                      'train_cfg.max_epochs=1',
                      env={'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(REPO_ROOT)}, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    first, second = [torch.load(work_dir / f'queue_rank{r}.pt', weights_only=False)
                     for r in range(WORLD_SIZE)]
    # the same picture on every rank: equal views would mean equal augmentation draws
    assert all(not torch.equal(a, b) for a, b in zip(first['first_batch'], second['first_batch']))
    assert first['param_digests'] == second['param_digests']  # weights still start (and stay) equal
    # the k-NN check ran once, on rank 0, and both ranks hold its result
    assert [k['calls'] for k in first['knn'] + second['knn']] == [1, 0]
    assert first['knn'][0]['history'] == second['knn'][0]['history'] != []
    meta = safe_torch_load(str(work_dir / 'epoch_1.pth'))['meta']
    states = meta['rng_state_per_rank']
    assert len(states) == WORLD_SIZE and not torch.equal(states[0]['torch'], states[1]['torch'])
    assert torch.equal(meta['rng_state']['torch'], states[0]['torch'])


def test_slurm_launcher_on_cpu_from_slurm_variables(tmp_path):
    """Two tasks as ``srun -n 2`` starts them: only SLURM_* set, no torchrun variables."""
    import os
    import subprocess
    import sys

    data_root = _synthetic_cifar(tmp_path / 'data')
    config = _dist_config(tmp_path, knn_monitor=False)
    work_dir = tmp_path / 'run'
    base = {k: v for k, v in os.environ.items()
            if k not in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')}
    # MASTER_ADDR as a slurm batch script would export it; scontrol does not exist here
    base.update(OMP_NUM_THREADS='1', PYTHONPATH=str(REPO_ROOT), SLURM_NTASKS=str(WORLD_SIZE),
                SLURM_NODELIST='localhost', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
    command = [sys.executable, 'tools/train.py', str(config), '--launcher', 'slurm',
               '--work-dir', str(work_dir), '--data-root', str(data_root), '--cfg-options', *TINY,
               'train_cfg.max_epochs=1']
    tasks = [subprocess.Popen(command, cwd=REPO_ROOT, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              env=dict(base, SLURM_PROCID=str(r), SLURM_LOCALID=str(r)))
             for r in range(WORLD_SIZE)]
    outputs = [task.communicate(timeout=300)[0] for task in tasks]
    assert [task.returncode for task in tasks] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    first, second = [torch.load(work_dir / f'queue_rank{r}.pt', weights_only=False)
                     for r in range(WORLD_SIZE)]
    assert (first['rank'], second['rank'], first['world_size']) == (0, 1, WORLD_SIZE)
    iters = IMAGES // (WORLD_SIZE * BATCH)  # each task saw half of the images
    assert first['iter'] == second['iter'] == iters
    assert torch.equal(first['queue_features'], second['queue_features'])
    assert first['queue_ptr'].item() == iters * WORLD_SIZE * BATCH % QUEUE_LEN
    assert first['param_digests'] == second['param_digests']
