"""Enqueue the keys of each training step into every FeatureQueue of the model."""
from __future__ import annotations

import time
from typing import List, Optional, Union

from mmengine import dist
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.models.utils import FeatureBank, FeatureQueue
from moco_plugin.registry import HOOKS


def find_queues(model) -> List[Union[FeatureQueue, FeatureBank]]:
    """Every feature memory of ``model`` that is written after the step: queues and banks."""
    model = model.module if is_model_wrapper(model) else model
    return [m for m in model.modules() if isinstance(m, (FeatureQueue, FeatureBank))]


@HOOKS.register_module()
class QueueHook(Hook):
    """Flush staged keys into every :class:`FeatureQueue` after each train step.

    Why after the step: a batch's keys must not be negatives for the same
    batch, and the queue tensor read by the loss must not change before
    backward has used it. Flushing gathers the keys of all ranks in rank
    order, so the queue is identical on every rank.

    Before training it checks that ``K`` is a multiple of the keys enqueued
    per step (global batch size x keys per image) and that the loader drops
    the last incomplete batch, so the queue always holds whole batches
    (MoCo's assumption; a partial batch would shift every later write).

    A memory bank with ``bank_init='encoder'`` is filled here, before the first step
    (``MemoryBankContrast.fill_bank``: one pass over the training loader).

    Args:
        strict: Raise on the checks above instead of only warning.
    """

    priority = 'NORMAL'

    def __init__(self, strict: bool = True) -> None:
        self.strict = strict

    def before_train(self, runner) -> None:
        queues = find_queues(runner.model)
        if not queues:
            raise ValueError('QueueHook: the model has no FeatureQueue or FeatureBank; remove QueueHook '
                             'from custom_hooks')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if hasattr(model, 'declare_training_hooks'):
            model.declare_training_hooks('QueueHook')
        loader = runner.train_dataloader
        batch_size = loader.batch_size or getattr(loader.batch_sampler, 'batch_size', None)
        drop_last = getattr(loader.batch_sampler, 'drop_last', loader.drop_last)
        world_size = dist.get_world_size()
        problems = []
        dataset_size = len(loader.dataset) if hasattr(loader.dataset, '__len__') else None
        for bank in (q for q in queues if isinstance(q, FeatureBank)):
            if dataset_size is not None and bank.size != dataset_size:
                problems.append(f'the memory bank has {bank.size} entries but the training set '
                                f'{dataset_size} images; set model.bank_size={dataset_size}')
        for queue in (q for q in queues if isinstance(q, FeatureQueue)):
            step_keys = batch_size * world_size * queue.keys_per_sample
            if queue.size % step_keys:
                problems.append(
                    f'queue length {queue.size} is not a multiple of the keys enqueued per step '
                    f'({batch_size} per GPU x {world_size} GPUs x {queue.keys_per_sample} '
                    f'keys per image = {step_keys}); set model.queue_len to a multiple of {step_keys}')
        if not drop_last:
            problems.append('the train dataloader keeps the last incomplete batch; set '
                            'train_dataloader.sampler.drop_last / batch_sampler drop_last=True')
        for problem in problems:
            if self.strict:
                raise ValueError(f'QueueHook: {problem}')
            runner.logger.warning(f'QueueHook: {problem}')
        if getattr(model, 'bank_needs_filling', lambda: False)():
            started = time.perf_counter()
            written = model.fill_bank(loader)
            runner.logger.info(f'QueueHook: memory bank filled with the initial encoder\'s '
                               f'features ({written} entries, {time.perf_counter() - started:.0f} s)')

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        for queue in find_queues(runner.model):
            queue.flush()
