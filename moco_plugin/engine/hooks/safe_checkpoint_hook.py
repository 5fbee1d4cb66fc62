"""MMEngine's CheckpointHook without the ways it loses a run or loads the wrong weights."""
from __future__ import annotations

import os.path as osp

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper

from moco_plugin.engine.checkpoint_checks import (check_load_state, check_resume_state,
                                                  checkpoint_to_resume)
from moco_plugin.registry import HOOKS
from moco_plugin.utils.atomic_io import atomic_write_text, remove_partial_writes
from moco_plugin.utils.config_files import training_image_size


class MidEpochResumeError(ValueError):
    """A checkpoint saved inside an epoch cannot be resumed exactly by the epoch loop."""


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` that never leaves a run without a checkpoint.

    Same arguments and files as MMEngine's hook, and:

    * an outdated checkpoint (``max_keep_ckpts``) is deleted only after the new one and
      ``last_checkpoint`` are in place (MMEngine deletes first: a run killed while
      saving had no checkpoint left);
    * ``last_checkpoint`` is written atomically; at start, leftovers of killed writes
      (``.NAME.xxxxxxxx.tmp``) are removed, and an auto ``--resume`` whose
      ``last_checkpoint`` is missing, empty or names an incomplete file continues
      from the newest complete checkpoint of the work dir instead;
    * on ``--resume`` every tensor must match the model (another ``queue_len`` would
      otherwise train on with a re-initialised queue), on ``load_from`` every module
      the file holds must be whole (a missing block would be left random); both
      refuse in one line;
    * resuming a checkpoint saved inside an epoch (``by_epoch=False``) under the epoch
      loop is refused: the loop would replay the whole epoch, not continue it;
    * ``meta['training_image_size']`` records the side of the training views, so an
      evaluation of the checkpoint on any dataset crops at the resolution it learnt.
    * ``meta['precision']`` records the precision the run trained in and why
      (``tools/train.py --precision``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._resume_source = None

    def before_run(self, runner) -> None:
        super().before_run(runner)
        if is_main_process():
            for folder in {runner.work_dir, self.out_dir or runner.work_dir}:
                for path in remove_partial_writes(folder):
                    runner.logger.info(f'removed {path}, left by a write that was killed')
        if runner._resume and runner._load_from is None:  # auto resume from the work dir
            self._repair_last_checkpoint(runner)

    def _repair_last_checkpoint(self, runner) -> None:
        record = osp.join(runner.work_dir, 'last_checkpoint')
        recorded = open(record).read().strip() if osp.isfile(record) else None
        target = checkpoint_to_resume(runner.work_dir, recorded)
        self._resume_source = target
        if target is not None and target != recorded and is_main_process():
            runner.logger.warning(f'last_checkpoint names {recorded or "nothing"!r}, which is not '
                                  f'a complete checkpoint; resuming from {target} instead')
            atomic_write_text(target, record)
        barrier()  # every rank reads last_checkpoint after rank 0 has repaired it

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(str(self.last_ckpt), osp.join(runner.work_dir, 'last_checkpoint'))
        if outdated is not None:  # only now that the new checkpoint is in place
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed saves folders
                self.file_backend.rmtree(path)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        size = training_image_size(runner.cfg)
        if size:
            checkpoint.setdefault('meta', {})['training_image_size'] = size
        precision = runner.cfg.get('precision_choice')  # set by tools/train.py --precision
        if precision:
            checkpoint.setdefault('meta', {})['precision'] = dict(precision)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = checkpoint.get('state_dict', checkpoint)
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
        expected = model.state_dict()
        source = runner._load_from or self._resume_source or 'the last checkpoint'
        try:
            if runner._resume:
                check_resume_state(state, expected, source)
                self._check_epoch_boundary(runner, checkpoint, source)
                return
            unexpected = check_load_state(state, expected, source)
        except ValueError as err:
            runner.logger.error(str(err))  # into the work dir's log too, not only the console
            raise
        if unexpected:
            runner.logger.warning(f'load_from {source}: {len(unexpected)} tensors have no '
                                  f'place in the model and are ignored: '
                                  f'{", ".join(unexpected[:5])}')

    @staticmethod
    def _check_epoch_boundary(runner, checkpoint: dict, source: str) -> None:
        meta = checkpoint.get('meta') or {}
        loop = runner.train_loop
        if 'epoch' not in meta or 'iter' not in meta or not hasattr(loop, 'max_epochs'):
            return  # the iteration loop continues by skipping batches
        per_epoch = len(loop.dataloader)
        if meta['iter'] != meta['epoch'] * per_epoch:
            raise MidEpochResumeError(
                f'{source} was saved inside an epoch (iteration {meta["iter"]}, '
                f'{meta["iter"] - meta["epoch"] * per_epoch} into epoch {meta["epoch"] + 1} of '
                f'{per_epoch} iterations) and the epoch loop would replay that whole epoch: '
                'resume from an epoch checkpoint (epoch_N.pth; keep by_epoch=True on the '
                'checkpoint hook)')
