"""MMEngine's TensorBoard backend from config: loss, lr, EMA momentum and k-NN scalars arrive."""
import json
import math
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.visualization import LocalVisBackend, TensorboardVisBackend
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from moco_plugin.registry import VISBACKENDS
from tests.conftest import REPO_ROOT, run_tool

CONFIG = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py'
# The one-line switch the README documents (TensorBoard instead of the local JSON backend).
TENSORBOARD_ONLY = 'visualizer.vis_backends.0.type=TensorboardVisBackend'
# Both backends: a config that inherits the one to run (the README's three-line recipe),
# here with a k-NN monitor on small subsets so that knn/top1 is logged too.
BOTH_BACKENDS = """\
_base_ = ['{base}']
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
model = dict(momentum=0.99, momentum_schedule='constant')
custom_hooks = [
    dict(type='MomentumUpdateHook'),
    dict(type='QueueHook'),
    dict(type='KNNMonitorHook', interval=1, k=20, bank_size=100, query_size=50, num_workers=0),
]
"""
EPOCHS, ITERS_PER_EPOCH = 2, 4  # 64 images in batches of 16
TINY = ['train_dataloader.batch_size=16', 'train_dataloader.dataset.subset_size=64',
        'train_dataloader.num_workers=0', 'model.queue_len=64', 'model.bn_splits=4',
        'model.backbone.cifar_stem=False', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=100', f'train_cfg.max_epochs={EPOCHS}',
        f'param_scheduler.0.T_max={EPOCHS}', f'param_scheduler.0.end={EPOCHS}']


def _scalars(event_file: Path) -> dict:
    accumulator = EventAccumulator(str(event_file), size_guidance={'scalars': 0})  # 0: keep all
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()['scalars']}


def test_tensorboard_backend_resolves_from_the_project_scope():
    backend = VISBACKENDS.build(dict(type='TensorboardVisBackend', save_dir='unused'))
    assert type(backend) is TensorboardVisBackend
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    cfg.merge_from_dict(dict([TENSORBOARD_ONLY.split('=')]))
    assert cfg.visualizer.vis_backends == [dict(type='TensorboardVisBackend')]
    assert VISBACKENDS.get(cfg.visualizer.vis_backends[0]['type']) is TensorboardVisBackend
    assert VISBACKENDS.get('LocalVisBackend') is LocalVisBackend


def test_tiny_training_run_writes_tensorboard_scalars(cifar_root, tmp_path):
    config = tmp_path / 'tensorboard_config.py'
    config.write_text(BOTH_BACKENDS.format(base=REPO_ROOT / CONFIG))
    work_dir = tmp_path / 'run'
    result = run_tool('tools/train.py', str(config), '--work-dir', str(work_dir),
                      '--data-root', str(cifar_root), '--cfg-options', *TINY)
    assert result.returncode == 0, result.stderr[-3000:]

    event_files = list(work_dir.glob('*/vis_data/events.out.tfevents.*'))
    assert len(event_files) == 1, event_files
    scalars = _scalars(event_files[0])
    iterations = EPOCHS * ITERS_PER_EPOCH
    for tag in ('loss', 'lr', 'momentum'):  # logged every iteration (logger interval 1)
        assert [step for step, _ in scalars[tag]] == list(range(1, iterations + 1)), tag
        assert all(math.isfinite(value) for _, value in scalars[tag]), tag
    # the model's EMA momentum (constant 0.99, logged by MomentumUpdateHook), not SGD's 0.9.
    assert all(value == pytest.approx(0.99) for _, value in scalars['momentum'])
    assert all(0 < value < 2 * math.log(65) for _, value in scalars['loss'])
    assert scalars['lr'][0][1] == pytest.approx(0.03)  # the config's SGD lr at the first step
    for tag in ('knn/top1', 'knn/top5'):  # once per epoch, step = epoch
        assert [step for step, _ in scalars[tag]] == list(range(1, EPOCHS + 1)), tag
        assert all(0 <= value <= 100 for _, value in scalars[tag]), tag
    assert all(top1 <= top5 for (_, top1), (_, top5) in zip(scalars['knn/top1'], scalars['knn/top5']))

    # The local backend still writes the same values (TensorBoard stores float32).
    local = [json.loads(line) for line in
             next(work_dir.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    local_losses = [entry['loss'] for entry in local if 'loss' in entry]
    assert [value for _, value in scalars['loss']] == pytest.approx(local_losses, rel=1e-6)
    local_momenta = [entry['momentum'] for entry in local if 'momentum' in entry]
    assert len(local_momenta) == iterations
