"""PreemptionHook and failing checkpoint writes in a real (toy) Runner."""
import errno
import os
import signal

import pytest
import torch
from mmengine.hooks import Hook

import moco_plugin.engine  # noqa: F401  (registers the hooks)
from moco_plugin.engine.hooks import PreemptionHook
from moco_plugin.utils import atomic_io, safe_torch_load
from tests.helpers.toy_runner import toy_runner


class SignalAt(Hook):
    priority = 'LOWEST'

    def __init__(self, iteration: int, sig: int) -> None:
        self.iteration, self.sig = iteration, sig

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.iteration:
            os.kill(os.getpid(), self.sig)


def _preemption(runner) -> PreemptionHook:
    return next(h for h in runner.hooks if isinstance(h, PreemptionHook))


def test_sigterm_saves_after_the_step_a_second_signal_changes_nothing(tmp_path, monkeypatch):
    options = dict(epochs=2, noise=1.0)  # 5 iterations per epoch
    toy_runner(tmp_path / 'straight', **options).train()
    runner = toy_runner(tmp_path / 'run', **options)
    runner.register_hook(SignalAt(6, signal.SIGTERM))  # during iteration 7 (epoch 2)
    write = atomic_io.os.fsync

    def signalled_while_writing(fd):  # SIGUSR1 arrives while the checkpoint's bytes are written
        if 'iter_7.pth' in os.readlink(f'/proc/self/fd/{fd}'):
            os.kill(os.getpid(), signal.SIGUSR1)
        write(fd)

    monkeypatch.setattr(atomic_io.os, 'fsync', signalled_while_writing)
    try:
        with pytest.raises(SystemExit) as stopped:
            runner.train()
    finally:
        _preemption(runner).after_train(runner)  # give the test process its handlers back
    assert stopped.value.code == 75
    assert [signal.Signals(s).name for s in _preemption(runner).received] == ['SIGTERM', 'SIGUSR1']
    saved = safe_torch_load(str(tmp_path / 'run' / 'iter_7.pth'))
    assert (saved['meta']['epoch'], saved['meta']['iter']) == (1, 7)
    assert (tmp_path / 'run' / 'last_checkpoint').read_text() == str(tmp_path / 'run' / 'iter_7.pth')
    log = next((tmp_path / 'run').glob('*/*.log')).read_text()
    assert 'SIGTERM received: saved' in log
    assert '(epoch 2) (SIGUSR1 during the save: ignored); exiting with code 75' in log
    monkeypatch.undo()

    toy_runner(tmp_path / 'run', resume=True, **options).train()  # auto resume: iter_7.pth
    expected = safe_torch_load(str(tmp_path / 'straight' / 'epoch_2.pth'))['state_dict']
    final = safe_torch_load(str(tmp_path / 'run' / 'epoch_2.pth'))['state_dict']
    assert all(torch.equal(final[k], v) for k, v in expected.items())


def test_a_step_the_checkpoint_hook_just_saved_is_not_saved_again(tmp_path):
    runner = toy_runner(tmp_path, epochs=2, by_epoch=False, interval=3)
    runner.register_hook(SignalAt(2, signal.SIGUSR1))  # during iteration 3, saved as iter_3.pth
    try:
        with pytest.raises(SystemExit):
            runner.train()
    finally:
        _preemption(runner).after_train(runner)
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_3.pth']
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert f'SIGUSR1 received: saved {tmp_path / "iter_3.pth"} after iteration 3' in log


def test_unknown_signal_name_is_refused():
    with pytest.raises(ValueError, match="unknown signal 'SIGFOO'"):
        PreemptionHook(signals=['SIGFOO'])
    assert PreemptionHook(signals=['usr2', 15]).signals == [signal.SIGUSR2, signal.SIGTERM]


def _failing_fsync(monkeypatch, name: str, code: int):
    fsync = atomic_io.os.fsync

    def fail(fd):
        if name in os.readlink(f'/proc/self/fd/{fd}'):
            raise OSError(code, os.strerror(code))
        fsync(fd)

    monkeypatch.setattr(atomic_io.os, 'fsync', fail)


@pytest.mark.parametrize('code, fix', [(errno.ENOSPC, 'free space on the disk of'),
                                       (errno.EACCES, 'writable or pass another --work-dir')])
def test_failed_save_is_one_line_and_the_previous_checkpoint_still_loads(
        tmp_path, monkeypatch, capsys, code, fix):
    from moco_plugin.cli.errors import run_cli

    runner = toy_runner(tmp_path, epochs=2)
    _failing_fsync(monkeypatch, 'epoch_2.pth', code)
    with pytest.raises(SystemExit) as stopped:
        run_cli('train.py', runner.train)
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and 'Traceback' not in lines[0]
    assert lines[0].startswith(f'train.py: error: cannot write {tmp_path / "epoch_2.pth"}: '
                               f'{os.strerror(code)} ({errno.errorcode[code]}); the last whole '
                               f'checkpoint is {tmp_path / "epoch_1.pth"} (--resume continues')
    assert fix in lines[0]
    assert not list(tmp_path.glob('.*.tmp')) and not (tmp_path / 'epoch_2.pth').exists()
    assert safe_torch_load(str(tmp_path / 'epoch_1.pth'))['meta']['epoch'] == 1
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')


def test_a_save_the_free_space_cannot_hold_is_warned_about(tmp_path, monkeypatch):
    from collections import namedtuple

    from moco_plugin.engine import checkpoint_space

    usage = namedtuple('usage', 'total used free')
    monkeypatch.setattr(checkpoint_space.shutil, 'disk_usage', lambda path: usage(10**9, 10**9, 100))
    toy_runner(tmp_path, epochs=2).train()  # the writes themselves still succeed here
    log = next(tmp_path.glob('*/*.log')).read_text()
    size = (tmp_path / 'epoch_1.pth').stat().st_size
    assert f'only 0.0 MiB free in {tmp_path} and the last checkpoint (epoch_1.pth) takes ' \
           f'{size / 2**20:.1f} MiB: this save will probably fail' in log
    assert log.count('this save will probably fail') == 1  # before epoch 2's save, not epoch 1's
