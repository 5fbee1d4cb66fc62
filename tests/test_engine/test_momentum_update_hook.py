import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from torch import nn

from moco_plugin.engine.hooks import MomentumUpdateHook
from moco_plugin.engine.hooks.momentum_update_hook import ema_update_, momentum_at


def test_constant_schedule():
    assert [momentum_at(s, 10, 0.99, 1.0, 'constant') for s in (0, 5, 10)] == [0.99] * 3


def test_cosine_schedule_values():
    assert momentum_at(0, 100, 0.99, 1.0, 'cosine') == pytest.approx(0.99)
    assert momentum_at(50, 100, 0.99, 1.0, 'cosine') == pytest.approx(0.995)
    assert momentum_at(100, 100, 0.99, 1.0, 'cosine') == pytest.approx(1.0)
    step = 25
    expected = 1.0 - 0.01 * (math.cos(math.pi * step / 100) + 1) / 2
    assert momentum_at(step, 100, 0.99, 1.0, 'cosine') == pytest.approx(expected)


def test_unknown_schedule_rejected():
    with pytest.raises(ValueError, match="'constant' or 'cosine'"):
        MomentumUpdateHook(schedule='linear')


def test_ema_update_matches_formula_and_leaves_buffers():
    torch.manual_seed(0)
    online, target = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    online.weight.data.uniform_()
    target.weight.data.uniform_()
    target.running_mean.fill_(7.0)
    online.running_mean.fill_(-1.0)
    before = target.weight.detach().clone()
    ema_update_(target, online, 0.9)
    torch.testing.assert_close(target.weight, 0.9 * before + 0.1 * online.weight)
    assert torch.all(target.running_mean == 7.0)  # buffers are not averaged


class _PairModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(2, 2)
        self.target = nn.Linear(2, 2)

    def momentum_pairs(self):
        return [(self.online, self.target)]


def _runner(model, iteration, max_iters):
    return SimpleNamespace(model=model, iter=iteration, max_iters=max_iters,
                           message_hub=MessageHub.get_instance('test_momentum_hook'))


def test_hook_applies_scheduled_momentum_and_logs_it():
    model = _PairModel()
    with torch.no_grad():
        model.online.weight.fill_(1.0)
        model.target.weight.fill_(0.0)
    hook = MomentumUpdateHook(momentum=0.5, end_momentum=1.0, schedule='cosine')
    runner = _runner(model, iteration=0, max_iters=2)
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)
    torch.testing.assert_close(model.target.weight, torch.full((2, 2), 0.5))  # m = 0.5 at step 0
    runner.iter = 1  # m = 0.75 half-way: target = 0.75 * 0.5 + 0.25 * 1
    hook.after_train_iter(runner, 1)
    torch.testing.assert_close(model.target.weight, torch.full((2, 2), 0.625))
    assert runner.message_hub.get_scalar('train/momentum').current() == pytest.approx(0.75)


def test_hook_requires_momentum_pairs():
    with pytest.raises(ValueError, match='declares no momentum_pairs'):
        MomentumUpdateHook().before_train(_runner(nn.Linear(1, 1), 0, 1))
