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


class _SettingsModel(_PairModel):
    DEFAULT_MOMENTUM = dict(momentum=0.99, end_momentum=1.0, schedule='cosine')

    def __init__(self, **settings):
        super().__init__()
        self.settings = settings

    def momentum_settings(self):
        return dict(self.settings)


def test_hook_reads_the_momentum_from_the_model():
    hook = MomentumUpdateHook()
    hook.before_train(_runner(_SettingsModel(momentum=0.9, schedule='constant'), 0, 10))
    assert (hook.momentum, hook.schedule) == (0.9, 'constant')
    # Neither the model nor the hook sets it: the algorithm's default (BYOL's cosine here).
    hook = MomentumUpdateHook()
    hook.before_train(_runner(_SettingsModel(), 0, 10))
    assert (hook.momentum, hook.end_momentum, hook.schedule) == (0.99, 1.0, 'cosine')
    # Set on the hook only (configs written before model.momentum existed): the hook's value.
    hook = MomentumUpdateHook(momentum=0.5)
    hook.before_train(_runner(_SettingsModel(), 0, 10))
    assert hook.momentum == 0.5


def test_momentum_set_twice_with_different_values_is_refused():
    hook = MomentumUpdateHook(momentum=0.99)
    with pytest.raises(ValueError, match=r"set twice with different values \(momentum: model 0.9, "
                                         r"MomentumUpdateHook 0.99\)"):
        hook.before_train(_runner(_SettingsModel(momentum=0.9), 0, 10))
    agreeing = MomentumUpdateHook(momentum=0.9)
    agreeing.before_train(_runner(_SettingsModel(momentum=0.9), 0, 10))
    assert agreeing.momentum == 0.9


@pytest.mark.parametrize('momentum', [0.0, 1.0])
def test_momentum_zero_copies_and_one_freezes_the_moco_key_encoder(momentum):
    from moco_plugin.registry import MODELS
    import moco_plugin.models  # noqa: F401
    model = MODELS.build(dict(
        type='MoCo', queue_len=16, feat_dim=8, momentum=momentum,
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=16, out_channels=8),
        head=dict(type='InfoNCEHead', temperature=0.2)))
    model.init_weights()
    start = {k: v.clone() for k, v in model.key_backbone.state_dict().items()}
    hook = MomentumUpdateHook()
    runner = _runner(model, 0, 3)
    hook.before_train(runner)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    for step in range(3):
        runner.iter = step
        views = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]
        optimizer.zero_grad()
        model(views, mode='loss')['loss'].backward()
        optimizer.step()
        model.queue.flush()
        hook.after_train_iter(runner, step)
        query = dict(model.backbone.named_parameters())
        for name, key_param in model.key_backbone.named_parameters():
            if momentum == 0.0:  # the key encoder is the query encoder after every step
                torch.testing.assert_close(key_param, query[name], rtol=0, atol=0)
            else:  # never moves
                torch.testing.assert_close(key_param, start[name], rtol=0, atol=0)
    assert not torch.equal(model.backbone.conv1.weight, start['conv1.weight'])


def test_the_default_momentum_has_one_source():
    from moco_plugin.models.algorithms.moco import MoCo
    assert not hasattr(MomentumUpdateHook, 'FALLBACK')  # the hook holds no default of its own
    hook = MomentumUpdateHook()
    hook.before_train(_runner(_PairModel(), 0, 10))  # a model that declares no default: MoCo's
    assert dict(momentum=hook.momentum, end_momentum=hook.end_momentum,
                schedule=hook.schedule) == MoCo.DEFAULT_MOMENTUM == dict(
                    momentum=0.999, end_momentum=1.0, schedule='constant')
