"""An MMEngine Runner with the project's default hooks and a model of a few numbers.

For tests of checkpointing and resuming that need a real Runner but not a ResNet:
a run of two epochs takes well under a second.
"""
from __future__ import annotations

import copy
import itertools
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from moco_plugin.models.utils import FeatureQueue
from tests.conftest import REPO_ROOT

_RUN_IDS = itertools.count()  # MMEngine keeps loggers/visualizers by experiment name
DEFAULT_RUNTIME = REPO_ROOT / 'configs' / '_base_' / 'default_runtime.py'


class ToyModel(BaseModel):
    """A linear layer and a MoCo queue (so checkpoints hold ``queue.features``)."""

    def __init__(self, queue_len: int = 8) -> None:
        super().__init__()
        self.backbone = torch.nn.Linear(4, 2)
        self.queue = FeatureQueue(queue_len, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.backbone(inputs)
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out


class ToyData(Dataset):
    """``n`` fixed vectors; ``noise > 0`` adds random noise per item, an "augmentation"
    drawn from the RNG of the process that loads it (a data-loader worker or the main one)."""

    def __init__(self, n: int = 10, noise: float = 0.0) -> None:
        self.items = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
        self.noise = noise

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        item = self.items[index]
        if self.noise:
            item = item + self.noise * torch.rand(4)
        return dict(inputs=item)


def default_hooks(drop=(), **checkpoint) -> dict:
    """``default_hooks`` of configs/_base_/default_runtime.py, checkpoint hook updated,
    the hooks named in ``drop`` left out."""
    hooks = copy.deepcopy(Config.fromfile(str(DEFAULT_RUNTIME)).default_hooks.to_dict())
    for name in ('progress_bar', 'loss_curve', *drop):  # console and PNG output only
        hooks.pop(name, None)
    hooks['checkpoint'].update(checkpoint)
    return hooks


def toy_runner(work_dir, epochs: int = 2, queue_len: int = 8, resume: bool = False,
               load_from: Optional[str] = None, n: int = 10, batch_size: int = 2,
               sampler: str = 'ResumableSampler', num_workers: int = 0, noise: float = 0.0,
               drop_hooks=(), **checkpoint) -> Runner:
    """A Runner over :class:`ToyData` (``n / batch_size`` iterations per epoch)."""
    checkpoint.setdefault('interval', 1)
    workers = dict(num_workers=num_workers)
    if num_workers:  # as the configs: fresh, per-epoch seeded workers
        workers.update(persistent_workers=False,
                       worker_init_fn=dict(type='moco_plugin.worker_init_from_torch_seed'))
    with torch.random.fork_rng():  # the same initial weights in every run of a process
        torch.manual_seed(0)
        model = ToyModel(queue_len)
    return Runner(
        model=model, work_dir=str(work_dir), default_scope='moco_plugin',
        train_dataloader=dict(dataset=ToyData(n, noise), batch_size=batch_size, **workers,
                              sampler=dict(type=sampler, shuffle=True),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=default_hooks(drop_hooks, **checkpoint), resume=resume, load_from=load_from,
        randomness=dict(seed=0), log_level='WARNING',
        experiment_name=f'toy_run_{next(_RUN_IDS)}')
