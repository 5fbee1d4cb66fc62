"""SafeCheckpointHook in a real Runner: nothing lost, nothing loaded that does not fit.

The refusals are matched as ValueError (CheckpointMismatchError, MidEpochResumeError) so
that the tests run, and fail, on the code before the hook existed.
"""
import glob
import os

import pytest
import torch
from mmengine.config import Config

import moco_plugin.engine  # noqa: F401  (registers the hooks)
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT
from tests.helpers.toy_runner import toy_runner

ITERS_PER_EPOCH = 5  # 10 toy items, batch 2


def test_outdated_checkpoint_is_deleted_only_after_the_new_one_is_saved(tmp_path):
    runner = toy_runner(tmp_path, epochs=2, max_keep_ckpts=1)
    save = runner.save_checkpoint

    def killed_while_writing_epoch_2(out_dir, filename, *args, **kwargs):
        if filename == 'epoch_2.pth':
            raise KeyboardInterrupt('killed while writing epoch_2.pth')
        return save(out_dir, filename, *args, **kwargs)

    runner.save_checkpoint = killed_while_writing_epoch_2
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    assert (tmp_path / 'epoch_1.pth').is_file()  # MMEngine's hook had deleted it already
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')
    resumed = toy_runner(tmp_path, epochs=2, max_keep_ckpts=1, resume=True)
    resumed.train()
    assert sorted(os.listdir(tmp_path)).count('epoch_2.pth') == 1
    assert not (tmp_path / 'epoch_1.pth').exists()  # kept one, as asked
    assert safe_torch_load(str(tmp_path / 'epoch_2.pth'))['meta']['iter'] == 2 * ITERS_PER_EPOCH


@pytest.mark.parametrize('damage', ['empty', 'missing', 'truncated_newest'])
def test_broken_last_checkpoint_falls_back_to_newest_complete_checkpoint(tmp_path, damage):
    toy_runner(tmp_path, epochs=1).train()
    record = tmp_path / 'last_checkpoint'
    first = (tmp_path / 'epoch_1.pth').read_bytes()
    if damage == 'empty':
        record.write_text('')
    elif damage == 'missing':
        record.unlink()
    else:  # a half-written epoch_2.pth of an older, non-atomic writer
        data = (tmp_path / 'epoch_1.pth').read_bytes()
        (tmp_path / 'epoch_2.pth').write_bytes(data[:len(data) // 2])
        record.write_text(str(tmp_path / 'epoch_2.pth'))
    runner = toy_runner(tmp_path, epochs=2, resume=True)
    runner.train()
    assert record.read_text() == str(tmp_path / 'epoch_2.pth')
    checkpoint = safe_torch_load(str(tmp_path / 'epoch_2.pth'))
    assert checkpoint['meta']['iter'] == 2 * ITERS_PER_EPOCH
    assert (tmp_path / 'epoch_1.pth').read_bytes() == first  # epoch 1 was not trained again


def test_leftovers_of_killed_writes_are_removed_at_start(tmp_path):
    leftover = tmp_path / '.epoch_2.pth.k3j_9xq2.tmp'
    leftover.write_bytes(b'half a checkpoint')
    users_file = tmp_path / '.notes.tmp'  # not a name the atomic writer makes
    users_file.write_text('keep me')
    toy_runner(tmp_path, epochs=1).train()
    assert not leftover.exists() and users_file.exists()
    assert glob.glob(str(tmp_path / '.*.tmp')) == [str(users_file)]


def test_resume_with_another_queue_len_is_refused(tmp_path):
    toy_runner(tmp_path, epochs=1, queue_len=8).train()
    runner = toy_runner(tmp_path, epochs=2, queue_len=16, resume=True)
    with pytest.raises(ValueError,
                       match=r'cannot resume from .*epoch_1.pth.*queue.features \(checkpoint '
                             r'\(8, 2\), model \(16, 2\), set by model.queue_len'):
        runner.train()


@pytest.mark.parametrize('num_workers', [0, 2])
def test_resume_inside_an_epoch_equals_the_uninterrupted_run(tmp_path, num_workers):
    """Checkpoints after 1, 3 and 6 iterations (5 per epoch) resume bit-exactly.

    The items get random noise where they are loaded (the main process, or data-loader
    workers: 2 of them, so resuming at batch 1 or 3 gives the first new worker the role of
    worker 1 of the interrupted epoch, at 1 before that worker produced anything).
    """
    options = dict(epochs=2, by_epoch=False, interval=1, max_keep_ckpts=-1, noise=1.0,
                   num_workers=num_workers)
    toy_runner(tmp_path / 'straight', **options).train()
    expected = safe_torch_load(str(tmp_path / 'straight' / 'iter_10.pth'))
    for done in (1, 3, 6):
        work_dir = tmp_path / f'from_{done}'
        work_dir.mkdir()
        source = tmp_path / 'straight' / f'iter_{done}.pth'
        (work_dir / source.name).write_bytes(source.read_bytes())
        toy_runner(work_dir, resume=True, load_from=str(work_dir / source.name), **options).train()
        final = safe_torch_load(str(work_dir / 'iter_10.pth'))
        assert final['meta']['iter'] == 10
        for key, value in expected['state_dict'].items():
            assert torch.equal(final['state_dict'][key], value), (done, key)
        assert torch.equal(final['meta']['rng_state']['torch'], expected['meta']['rng_state']['torch'])
        momenta = [(s.get('momentum_buffer'), t.get('momentum_buffer')) for s, t in zip(
            final['optimizer']['state'].values(), expected['optimizer']['state'].values())]
        assert all(a is None and b is None or torch.equal(a, b) for a, b in momenta)


def test_inside_an_epoch_with_a_sampler_that_cannot_skip_is_refused(tmp_path):
    toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3).train()  # iter_3, iter_6, iter_9
    runner = toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3, resume=True,
                        load_from=str(tmp_path / 'iter_6.pth'), sampler='DefaultSampler')
    with pytest.raises(ValueError, match=r'saved inside epoch 2 \(1 batches done\) and the '
                                         r"sampler DefaultSampler .*type='ResumableSampler'"):
        runner.train()


def test_inside_an_epoch_without_the_data_position_is_refused(tmp_path):
    toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3).train()
    old = safe_torch_load(str(tmp_path / 'iter_6.pth'))  # as an older version saved it
    del old['meta']['data_position']
    torch.save(old, tmp_path / 'old.pth')
    runner = toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3, resume=True,
                        load_from=str(tmp_path / 'old.pth'))
    with pytest.raises(ValueError, match=r'old.pth was saved inside an epoch \(iteration 6, 1 into '
                                         r'epoch 2 of 5 iterations\) without its data position'):
        runner.train()
    runner = toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3, resume=True,
                        load_from=str(tmp_path / 'iter_6.pth'), drop_hooks=['data_position'])
    with pytest.raises(ValueError, match=r'this run has no DataPositionHook to continue it'):
        runner.train()


def test_auto_resume_in_an_empty_work_dir_starts_the_run(tmp_path):
    toy_runner(tmp_path, epochs=1, resume=True).train()  # the first launch of a requeued job
    assert safe_torch_load(str(tmp_path / 'epoch_1.pth'))['meta']['iter'] == ITERS_PER_EPOCH


def test_inside_an_epoch_with_another_batch_size_is_refused(tmp_path):
    toy_runner(tmp_path, epochs=2, n=12, by_epoch=False, interval=4).train()  # 6 per epoch
    runner = toy_runner(tmp_path, epochs=2, n=12, batch_size=3, by_epoch=False, interval=4,
                        resume=True, load_from=str(tmp_path / 'iter_4.pth'))
    with pytest.raises(ValueError, match=r'with batch_size 2 and this run has 3'):
        runner.train()


def test_load_from_refuses_an_incomplete_module_and_accepts_a_missing_queue(tmp_path):
    toy_runner(tmp_path / 'src', epochs=1).train()
    state = safe_torch_load(str(tmp_path / 'src' / 'epoch_1.pth'))['state_dict']
    incomplete = {k: v for k, v in state.items() if k != 'backbone.bias'}
    torch.save({'state_dict': incomplete}, tmp_path / 'incomplete.pth')
    runner = toy_runner(tmp_path / 'a', epochs=1, load_from=str(tmp_path / 'incomplete.pth'))
    with pytest.raises(ValueError, match=r'incomplete.pth is incomplete .*1 missing: '
                                                      r'backbone.bias'):
        runner.train()
    log = next((tmp_path / 'a').glob('*/*.log')).read_text()
    assert 'incomplete.pth is incomplete or for another architecture' in log  # not only stdout
    no_queue = {k: v for k, v in state.items() if not k.startswith('queue.')}
    torch.save({'state_dict': no_queue}, tmp_path / 'no_queue.pth')
    runner = toy_runner(tmp_path / 'b', epochs=1, load_from=str(tmp_path / 'no_queue.pth'))
    runner.train()  # official releases carry no queue: it keeps its initial values


def test_every_config_saves_with_the_safe_checkpoint_hook():
    configs = [p for p in glob.glob(str(REPO_ROOT / 'configs' / '**' / '*.py'), recursive=True)
               if '_base_' not in p and '/fewlabel/' not in p]  # fewlabel: probe recipes
    assert len(configs) > 5
    for path in configs:
        hooks = Config.fromfile(path).get('default_hooks', {})
        assert hooks.get('checkpoint', {}).get('type') == 'SafeCheckpointHook', path


def test_each_rank_gets_its_own_rng_state_back(monkeypatch):
    from moco_plugin.engine.hooks import rng_state_hook
    from moco_plugin.engine.hooks.rng_state_hook import RNGStateHook, get_rng_state
    states = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        states.append(get_rng_state())
    monkeypatch.setattr(rng_state_hook, 'get_rank', lambda: 1)
    monkeypatch.setattr(rng_state_hook, 'get_world_size', lambda: 2)
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, {'meta': {'rng_state': states[0],
                                               'rng_state_per_rank': states}})
    assert torch.equal(torch.get_rng_state(), states[1]['torch'])
    hook.before_train(None)  # restored: no new stream on top of it
    assert torch.equal(torch.get_rng_state(), states[1]['torch'])


def test_checkpoints_record_the_training_resolution():
    from types import SimpleNamespace

    from moco_plugin.engine.hooks.safe_checkpoint_hook import SafeCheckpointHook
    hook = SafeCheckpointHook(interval=1)
    cfg = Config(dict(model=dict(data_preprocessor=dict(batch_augment=dict(size=24)))))
    checkpoint = {'meta': {'epoch': 1}}
    hook.before_save_checkpoint(SimpleNamespace(cfg=cfg), checkpoint)
    assert checkpoint['meta'] == {'epoch': 1, 'training_image_size': 24, 'world_size': 1}
    untouched = {'meta': {}}  # a config that names no view size records nothing
    hook.before_save_checkpoint(SimpleNamespace(cfg=Config(dict(model=dict()))), untouched)
    assert untouched == {'meta': {'world_size': 1}}
