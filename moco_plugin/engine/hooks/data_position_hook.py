"""Where the epoch loop stands inside an epoch: saved with each checkpoint, continued on resume."""
from __future__ import annotations

from typing import Optional

import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook

from moco_plugin.engine.checkpoint_checks import MidEpochResumeError
from moco_plugin.engine.hooks.rng_state_hook import set_rng_state
from moco_plugin.engine.worker_rng import (WORKER_STATE_KEY, RoleAssigningWorkerInit,
                                           StateReportingCollate, resumed_roles)
from moco_plugin.registry import HOOKS


@HOOKS.register_module()
class DataPositionHook(Hook):
    """Exact resume inside an epoch: the data order and every random stream continue.

    A checkpoint saved after ``k`` batches of an epoch (``by_epoch=False`` intervals, or
    :class:`PreemptionHook`) gets ``meta['data_position']``: the batches consumed, the
    sampler's seed, the loader's shape (batch size, workers, world size) and per rank

    * the torch RNG state the loader drew its workers' base seed from at the start of the
      epoch, so the resumed epoch's workers get the same seeds while the main stream (restored
      by ``RNGStateHook``) is not advanced by that draw;
    * each worker's RNG state after its last batch (``engine/worker_rng.py``), so the new
      worker that produces batch ``k + i`` continues the stream of the worker that would have.

    On ``--resume`` the :class:`~moco_plugin.datasets.ResumableSampler` skips the ``k``
    batches already trained on, the main RNG is set again at the start of the resumed epoch
    (hooks run before it draw nothing of the run's), and the epoch ends after the remaining
    batches: weights, queue, optimizer and RNG equal those of the uninterrupted run. The
    batched augmentation (``BatchMoCoAugment``) keeps its seed and call count in the model's
    state dict; the iteration and epoch counters are MMEngine's ``meta``. Refused in one line
    (``MidEpochResumeError``): a sampler that cannot skip, another batch size, number of
    workers, iterations per epoch or world size. Epoch checkpoints need none of this; their
    resume is unchanged, apart from the sampler's seed, which comes back from the checkpoint.
    """

    priority = 95  # before_train_epoch after every other hook (VERY_LOW = 90)

    def __init__(self) -> None:
        self._epoch_start_rng: Optional[torch.Tensor] = None
        self._worker_states: dict = {}  # role -> RNG state after its last consumed batch
        self._gathered: Optional[list] = None
        self._resume: Optional[dict] = None  # what the next (resumed) epoch starts from
        self._undo = None  # (generator) to put back once the resumed epoch's loader started

    @staticmethod
    def _loader(runner):
        return runner.train_loop.dataloader

    def before_train(self, runner) -> None:
        loader = self._loader(runner)
        if loader.num_workers > 0 and not isinstance(loader.collate_fn, StateReportingCollate):
            loader.collate_fn = StateReportingCollate(loader.collate_fn)
            loader.worker_init_fn = RoleAssigningWorkerInit(loader.worker_init_fn)

    def _restore_loader(self, runner) -> None:
        if self._undo is not None:
            loader = self._loader(runner)
            loader.generator = self._undo[0]
            if isinstance(loader.worker_init_fn, RoleAssigningWorkerInit):
                loader.worker_init_fn.roles = None
            self._undo = None

    def before_train_epoch(self, runner) -> None:
        self._restore_loader(runner)
        self._worker_states = {}
        loader = self._loader(runner)
        resume, self._resume = self._resume, None
        if resume is None or resume['epoch'] != runner.epoch:
            source = loader.generator
            self._epoch_start_rng = source.get_state() if source is not None else torch.get_rng_state()
            return
        generator = torch.Generator()
        generator.set_state(resume['epoch_start_rng'])
        self._undo = (loader.generator, )
        loader.generator = generator  # the workers' base seed of the interrupted epoch
        self._epoch_start_rng = resume['epoch_start_rng']
        if isinstance(loader.worker_init_fn, RoleAssigningWorkerInit):
            loader.worker_init_fn.roles = resume['roles']
        if resume['rng'] is not None:
            set_rng_state(resume['rng'])

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if isinstance(data_batch, dict) and WORKER_STATE_KEY in data_batch:
            role, state = data_batch.pop(WORKER_STATE_KEY)
            self._worker_states[role] = state
        self._restore_loader(runner)  # the resumed epoch's workers are running

    def after_train_epoch(self, runner) -> None:
        self._restore_loader(runner)  # a resumed epoch with no batch left

    def gather_before_save(self, runner) -> None:
        local = dict(epoch_start_rng=self._epoch_start_rng, workers=dict(self._worker_states))
        self._gathered = all_gather_object(local) if get_world_size() > 1 else [local]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = runner.train_loop
        meta = checkpoint.setdefault('meta', {})
        if not hasattr(loop, 'max_epochs') or 'iter' not in meta:
            return
        per_epoch = loop.max_iters // loop.max_epochs
        consumed = meta['iter'] - meta['epoch'] * per_epoch
        loader = self._loader(runner)
        position = dict(epoch=meta['epoch'], consumed_batches=consumed,
                        batches_per_epoch=per_epoch, batch_size=loader.batch_size,
                        num_workers=loader.num_workers, world_size=get_world_size(),
                        sampler_seed=getattr(loader.sampler, 'seed', None))
        if consumed:  # gathered on every rank by SafeCheckpointHook just before this save
            local = [dict(epoch_start_rng=self._epoch_start_rng, workers=dict(self._worker_states))]
            position['per_rank'] = self._gathered or (local if get_world_size() == 1 else None)
        self._gathered = None
        meta['data_position'] = position

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        position = meta.get('data_position')
        loop = runner.train_loop
        if not runner._resume or not position or not hasattr(loop, 'max_epochs'):
            return
        loader = self._loader(runner)
        sampler = loader.sampler
        seed = position.get('sampler_seed')
        if seed is not None and getattr(sampler, 'seed', seed) != seed:
            runner.logger.warning(f'the data order continues with the checkpoint\'s sampler '
                                  f'seed {seed}, not {sampler.seed}')
            sampler.seed = seed
        consumed = position['consumed_batches']
        if not consumed:
            return
        self._check_fits(position, loader, loop.max_iters // loop.max_epochs)
        rank = get_rank()
        per_rank_rng = meta.get('rng_state_per_rank')
        rng = (per_rank_rng[rank] if per_rank_rng and len(per_rank_rng) == get_world_size()
               else meta.get('rng_state'))
        own = position['per_rank'][rank]
        sampler.skip(position['epoch'], consumed * loader.batch_size)
        self._resume = dict(epoch=position['epoch'], rng=rng,
                            epoch_start_rng=own['epoch_start_rng'],
                            roles=resumed_roles(consumed, loader.num_workers, own['workers']))
        runner.logger.info(f'resuming inside epoch {position["epoch"] + 1}: {consumed} of its '
                           f'{position["batches_per_epoch"]} batches are done and skipped')

    @staticmethod
    def _check_fits(position: dict, loader, per_epoch: int) -> None:
        where = (f'the checkpoint was saved inside epoch {position["epoch"] + 1} '
                 f'({position["consumed_batches"]} batches done)')
        if not hasattr(loader.sampler, 'skip'):
            raise MidEpochResumeError(
                f'{where} and the sampler {type(loader.sampler).__name__} cannot start an epoch '
                "part-way: set train_dataloader.sampler.type='ResumableSampler' (same order), "
                'or resume from an epoch checkpoint (epoch_N.pth)')
        if not position.get('per_rank') or len(position['per_rank']) != position['world_size']:
            raise MidEpochResumeError(
                f'{where} without the state of every process (saved without SafeCheckpointHook); '
                'resume from an epoch checkpoint (epoch_N.pth)')
        if loader.num_workers and loader.persistent_workers:
            raise MidEpochResumeError(
                f'{where} and this run keeps its loader workers across epochs, whose random '
                'streams then run on from the resumed epoch: set '
                'train_dataloader.persistent_workers=False, or resume from an epoch checkpoint')
        now = dict(world_size=get_world_size(), batch_size=loader.batch_size,
                   num_workers=loader.num_workers, batches_per_epoch=per_epoch)
        for key, value in now.items():
            if position[key] != value:
                raise MidEpochResumeError(
                    f'{where} with {key} {position[key]} and this run has {value}: resume '
                    f'with the same {key}, or from an epoch checkpoint (epoch_N.pth)')
