"""MMEngine's CheckpointHook without the ways it loses a run or loads the wrong weights."""
from __future__ import annotations

import os.path as osp
from typing import Optional

from mmengine.dist import barrier, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper

from moco_plugin.engine.checkpoint_checks import (MidEpochResumeError, check_load_state,
                                                  check_resume_state, checkpoint_to_resume)
from moco_plugin.engine.checkpoint_space import space_warning, write_failure
from moco_plugin.registry import HOOKS
from moco_plugin.utils.atomic_io import atomic_write_text, remove_partial_writes
from moco_plugin.utils.config_files import training_image_size


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
    * a checkpoint saved inside an epoch (``by_epoch=False`` intervals, :meth:`save_now` on a
      preemption signal) is continued where it stopped by ``DataPositionHook``; without
      that hook, or on another number of processes, the resume is refused in one line
      (the epoch loop would replay the epoch); an epoch checkpoint resumed on another
      number of processes continues with the iteration counter of the new world size;
    * a save that fails for a full disk or an unwritable folder ends the run in one line
      naming the file, the last whole checkpoint and the fix, and a save the free space
      cannot hold (less than the last checkpoint's size) is warned about first;
    * ``meta['training_image_size']`` records the side of the training views, so an
      evaluation of the checkpoint on any dataset crops at the resolution it learnt.
    * ``meta['precision']`` records the precision the run trained in and why
      (``tools/train.py --precision``).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._resume_source = None
        self.saved_iter = None  # meta['iter'] of the last checkpoint this run wrote

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
        self._write(runner, self.filename_tmpl.format(step), meta, self.by_epoch)
        if outdated is not None and is_main_process():  # only now that the new one is in place
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed saves folders
                self.file_backend.rmtree(path)

    def save_now(self, runner, at_epoch_end: bool) -> str:
        """Checkpoint the run where it stands (a preemption; every rank calls it).

        At the end of an epoch the file is the epoch's (``epoch_N.pth``); inside an epoch,
        after the step that just finished, ``iter_N.pth`` (N iterations done), which
        ``--resume`` continues exactly (``DataPositionHook``). Neither counts towards
        ``max_keep_ckpts``. Returns the path.
        """
        if at_epoch_end:
            meta = dict(epoch=runner.epoch + 1, iter=runner.iter)
            template = self.filename_tmpl if self.by_epoch else 'epoch_{}.pth'
            return self._write(runner, template.format(runner.epoch + 1), meta, True)
        meta = dict(epoch=runner.epoch, iter=runner.iter + 1)
        return self._write(runner, f'iter_{runner.iter + 1}.pth', meta, False)

    def _last_whole_checkpoint(self, runner) -> Optional[str]:
        record = osp.join(runner.work_dir, 'last_checkpoint')
        recorded = open(record).read().strip() if osp.isfile(record) else None
        return checkpoint_to_resume(runner.work_dir, recorded)

    def _write(self, runner, filename: str, meta: dict, by_epoch: bool) -> str:
        for hook in runner.hooks:  # collectives (per-rank states): every rank passes here
            if hasattr(hook, 'gather_before_save'):
                hook.gather_before_save(runner)
        path = str(self.file_backend.join_path(self.out_dir, filename))
        last_whole = None
        if is_main_process():
            last_whole = self._last_whole_checkpoint(runner)
            warning = space_warning(self.out_dir, last_whole)
            if warning:
                runner.logger.warning(warning)
        self.last_ckpt = path
        runner.message_hub.update_info('last_ckpt', path)
        try:
            runner.save_checkpoint(
                self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=by_epoch,
                backend_args=self.backend_args, **self.args)
            if is_main_process():
                atomic_write_text(path, osp.join(runner.work_dir, 'last_checkpoint'))
        except OSError as err:
            failure = write_failure(err, path, last_whole)
            if failure is None:
                raise
            runner.logger.error(str(failure))
            raise failure from err
        self.saved_iter = meta['iter']
        return path

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        size = training_image_size(runner.cfg)
        meta = checkpoint.setdefault('meta', {})
        if size:
            meta['training_image_size'] = size
        meta['world_size'] = get_world_size()
        precision = runner.cfg.get('precision_choice')  # set by tools/train.py --precision
        if precision:
            meta['precision'] = dict(precision)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = checkpoint.get('state_dict', checkpoint)
        state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
        expected = model.state_dict()
        source = runner._load_from or self._resume_source or 'the last checkpoint'
        try:
            if runner._resume:
                check_resume_state(state, expected, source)
                self._check_position(runner, checkpoint, source)
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
    def _check_position(runner, checkpoint: dict, source: str) -> None:
        meta = checkpoint.get('meta') or {}
        loop = runner.train_loop
        if 'epoch' not in meta or 'iter' not in meta or not hasattr(loop, 'max_epochs'):
            return  # the iteration loop continues by skipping batches
        per_epoch = loop.max_iters // loop.max_epochs
        saved_size, size = meta.get('world_size'), get_world_size()
        position = meta.get('data_position') or {}
        if saved_size is not None and saved_size != size:
            if position.get('consumed_batches'):
                raise MidEpochResumeError(
                    f'{source} was saved inside an epoch at world size {saved_size} and this run '
                    f'has world size {size}: the data order within an epoch is per world size; '
                    f'resume on {saved_size} processes, or from an epoch checkpoint (epoch_N.pth)')
            runner.logger.warning(
                f'resuming a run of world size {saved_size} at world size {size}: after epoch '
                f'{meta["epoch"]}, {per_epoch} iterations per epoch (the global batch changes, '
                'the learning rate does not)')
            meta['iter'] = meta['epoch'] * per_epoch  # MMEngine sets the loop's counter from it
            return
        if meta['iter'] == meta['epoch'] * per_epoch:
            return
        where = (f'{source} was saved inside an epoch (iteration {meta["iter"]}, '
                 f'{meta["iter"] - meta["epoch"] * per_epoch} into epoch {meta["epoch"] + 1} of '
                 f'{per_epoch} iterations)')
        if not position:
            raise MidEpochResumeError(
                f'{where} without its data position (no DataPositionHook in that run), and the '
                'epoch loop would replay the whole epoch: resume from an epoch checkpoint '
                '(epoch_N.pth)')
        if not any(type(h).__name__ == 'DataPositionHook' for h in runner.hooks):
            raise MidEpochResumeError(
                f'{where} and this run has no DataPositionHook to continue it there: add '
                "default_hooks.data_position=dict(type='DataPositionHook') "
                '(configs/_base_/default_runtime.py has it), or resume from an epoch checkpoint')
