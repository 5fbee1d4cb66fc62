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


def test_resume_from_a_checkpoint_saved_inside_an_epoch_is_refused(tmp_path):
    toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3).train()  # iter_3, iter_6, iter_9
    runner = toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3, resume=True,
                        load_from=str(tmp_path / 'iter_6.pth'))
    with pytest.raises(ValueError, match=r'iteration 6, 1 into epoch 2 of 5 '
                                                  r'iterations.*epoch_N.pth'):
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
    assert checkpoint['meta'] == {'epoch': 1, 'training_image_size': 24}
    untouched = {'meta': {}}  # a config that names no view size records nothing
    hook.before_save_checkpoint(SimpleNamespace(cfg=Config(dict(model=dict()))), untouched)
    assert untouched == {'meta': {}}
