import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub
from torch import nn

import moco_plugin.models  # noqa: F401  (registers the models)
from moco_plugin.engine.hooks import MomentumUpdateHook
from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS
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


def test_unknown_schedule_rejected_when_the_model_is_built():
    with pytest.raises(ValueError, match="model.momentum_schedule must be 'constant' or 'cosine', "
                                         "got 'linear'"):
        _SettingsModel(schedule='linear')
    with pytest.raises(ValueError, match=r'model.momentum must be a number in \[0, 1\], got 1.5'):
        _SettingsModel(momentum=1.5)


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


class _PairModel(BaseSelfSupervisor):
    """A model with one momentum pair and BYOL's EMA default, no loss."""

    DEFAULT_MOMENTUM = dict(momentum=0.99, end_momentum=1.0, schedule='cosine')

    def __init__(self, momentum=None, end_momentum=None, schedule=None):
        super().__init__(backbone=dict(type='ResNet', depth=18))
        self.set_momentum(momentum, end_momentum, schedule)
        self.online = nn.Linear(2, 2)
        self.target = nn.Linear(2, 2)

    def momentum_pairs(self):
        return [(self.online, self.target)]


_SettingsModel = _PairModel


def _build_moco(momentum):
    model = MODELS.build(dict(
        type='MoCo', queue_len=16, feat_dim=8, momentum=momentum,
        backbone=dict(type='ResNet', depth=18),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=16, out_channels=8),
        head=dict(type='InfoNCEHead', temperature=0.2)))
    model.init_weights()
    return model


def _runner(model, iteration, max_iters):
    return SimpleNamespace(model=model, iter=iteration, max_iters=max_iters,
                           message_hub=MessageHub.get_instance('test_momentum_hook'))


def test_hook_applies_scheduled_momentum_and_logs_it():
    model = _PairModel(momentum=0.5, end_momentum=1.0, schedule='cosine')
    with torch.no_grad():
        model.online.weight.fill_(1.0)
        model.target.weight.fill_(0.0)
    hook = MomentumUpdateHook()
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


def test_hook_reads_the_momentum_from_the_model():
    hook = MomentumUpdateHook()
    hook.before_train(_runner(_SettingsModel(momentum=0.9, schedule='constant'), 0, 10))
    assert (hook.momentum, hook.end_momentum, hook.schedule) == (0.9, 1.0, 'constant')
    # Nothing set on the model: the algorithm's default (the test model's cosine here).
    hook = MomentumUpdateHook()
    hook.before_train(_runner(_SettingsModel(), 0, 10))
    assert (hook.momentum, hook.end_momentum, hook.schedule) == (0.99, 1.0, 'cosine')


@pytest.mark.parametrize('given, fix', [
    (dict(momentum=0.99), 'momentum=0.99'),
    (dict(schedule='cosine', end_momentum=1.0), "momentum_schedule='cosine', end_momentum=1.0")])
def test_momentum_on_the_hook_is_refused_with_the_model_key_to_use(given, fix):
    with pytest.raises(ValueError, match=r'the EMA is set on the model; write '
                                         r'model=dict\(\.\.\., ' + fix.replace('.', r'\.')):
        MomentumUpdateHook(**given)
    with pytest.raises(TypeError, match='takes only interval'):
        MomentumUpdateHook(momentun=0.9)


def test_a_model_with_pairs_but_no_settings_is_refused():
    class Bare(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(1, 1), nn.Linear(1, 1)

        def momentum_pairs(self):
            return [(self.a, self.b)]
    with pytest.raises(ValueError, match='no EMA settings; subclass BaseSelfSupervisor, declare '
                                         'DEFAULT_MOMENTUM'):
        MomentumUpdateHook().before_train(_runner(Bare(), 0, 1))


@pytest.mark.parametrize('momentum', [0.0, 1.0])
def test_momentum_zero_copies_and_one_freezes_the_moco_key_encoder(momentum):
    model = _build_moco(momentum)
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
    from moco_plugin.engine.hooks import momentum_update_hook
    from moco_plugin.models.algorithms.byol import BYOL
    from moco_plugin.models.algorithms.moco import MoCo
    # the hook holds no default of its own and does not know any algorithm
    assert not hasattr(MomentumUpdateHook, 'FALLBACK') and not hasattr(MomentumUpdateHook, 'resolve')
    assert 'MoCo' not in vars(momentum_update_hook)
    assert MoCo.DEFAULT_MOMENTUM == dict(momentum=0.999, end_momentum=1.0, schedule='constant')
    assert BYOL.DEFAULT_MOMENTUM == dict(momentum=0.99, end_momentum=1.0, schedule='cosine')
    model = _build_moco(momentum=None)
    assert model.momentum_settings() == MoCo.DEFAULT_MOMENTUM
    hook = MomentumUpdateHook()
    hook.before_train(_runner(model, 0, 10))
    assert (hook.momentum, hook.schedule) == (0.999, 'constant')
