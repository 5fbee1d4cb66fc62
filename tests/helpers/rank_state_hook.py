"""A hook that writes each rank's training state to the work dir, to compare ranks in tests."""
import hashlib
import os.path as osp

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.evaluation.knn_monitor_hook import KNNMonitorHook
from moco_plugin.registry import HOOKS


@HOOKS.register_module()
class CountingKNNMonitorHook(KNNMonitorHook):
    """The k-NN monitor, counting how often this rank extracted features."""

    calls = 0

    def evaluate(self, runner):
        self.calls += 1
        return super().evaluate(runner)


def tensor_digest(tensor: torch.Tensor) -> str:
    """SHA-1 of a tensor's dtype, shape and bytes: equal digests mean bitwise-equal tensors."""
    tensor = tensor.detach().cpu().contiguous()
    digest = hashlib.sha1(f'{tensor.dtype}{tuple(tensor.shape)}'.encode())
    digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@HOOKS.register_module()
class DumpRankStateHook(Hook):
    """After training, every rank (not only rank 0, as checkpoints) saves
    ``<work_dir>/queue_rank{R}.pt``: the MoCo queue (``features``, ``ptr``),
    digests of all parameters and buffers, and the first training batch's
    views as this rank's data loader produced them.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self._first_batch = None

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._first_batch is None and data_batch is not None:
            self._first_batch = [view.clone() for view in data_batch['inputs']]

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        rank = get_rank()
        torch.save(dict(
            rank=rank, world_size=get_world_size(), iter=runner.iter,
            queue_features=model.queue.features.detach().cpu().clone(),
            queue_ptr=model.queue.ptr.detach().cpu().clone(),
            param_digests={n: tensor_digest(p) for n, p in model.named_parameters()},
            buffer_digests={n: tensor_digest(b) for n, b in model.named_buffers()},
            first_batch=self._first_batch,
            knn=[dict(calls=h.calls, history=h.history) for h in runner.hooks
                 if isinstance(h, CountingKNNMonitorHook)],
        ), osp.join(runner.work_dir, f'queue_rank{rank}.pt'))
