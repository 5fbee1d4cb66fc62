from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from moco_plugin.engine.hooks import QueueHook
from moco_plugin.models.utils import FeatureQueue


class _QueueModel(nn.Module):
    def __init__(self, size, keys_per_sample=1):
        super().__init__()
        self.queue = FeatureQueue(size, 2, keys_per_sample)


def _runner(model, batch_size=4, drop_last=True):
    loader = DataLoader(list(range(16)), batch_size=batch_size, drop_last=drop_last)
    return SimpleNamespace(model=model, train_dataloader=loader, logger=None)


def test_accepts_queue_multiple_of_batch():
    QueueHook().before_train(_runner(_QueueModel(8)))


def test_rejects_queue_not_multiple_of_global_batch():
    with pytest.raises(ValueError, match='queue length 10 is not a multiple.*multiple of 4'):
        QueueHook().before_train(_runner(_QueueModel(10)))


def test_symmetric_loss_counts_two_keys_per_image():
    with pytest.raises(ValueError, match='2 keys per image = 8'):
        QueueHook().before_train(_runner(_QueueModel(12, keys_per_sample=2)))


def test_rejects_loader_that_keeps_last_batch():
    with pytest.raises(ValueError, match='drop_last=True'):
        QueueHook().before_train(_runner(_QueueModel(8), drop_last=False))


def test_rejects_model_without_queue():
    with pytest.raises(ValueError, match='no FeatureQueue'):
        QueueHook().before_train(_runner(nn.Linear(1, 1)))


def test_after_train_iter_flushes_staged_keys():
    model = _QueueModel(4)
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    model.queue.stage(keys)
    QueueHook().after_train_iter(_runner(model), 0)
    torch.testing.assert_close(model.queue.features[:2], keys)
    assert model.queue.ptr.item() == 2
