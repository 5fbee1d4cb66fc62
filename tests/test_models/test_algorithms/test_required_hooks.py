"""A model that needs QueueHook / MomentumUpdateHook says so at its first training step."""
import pytest
import torch

import moco_plugin.models  # noqa: F401
from moco_plugin.models.algorithms.base import MissingTrainingHookError
from moco_plugin.registry import MODELS

SMALL_MOCO = dict(type='MoCo', queue_len=32, feat_dim=16, backbone=dict(type='ResNet', depth=18),
                  neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=64, out_channels=16),
                  head=dict(type='InfoNCEHead', temperature=0.2))
SMALL_BYOL = dict(type='BYOL', backbone=dict(type='ResNet', depth=18),
                  neck=dict(type='BYOLNeck', in_channels=512, hid_channels=64, out_channels=16),
                  head=dict(type='LatentPredictHead', predictor='byol', in_channels=16,
                            hid_channels=32, out_channels=16))
SMALL_SIMCLR = dict(type='SimCLR', backbone=dict(type='ResNet', depth=18),
                    neck=dict(type='SimCLRNeck', in_channels=512, hid_channels=64, out_channels=16),
                    head=dict(type='NTXentHead', temperature=0.5))
VIEWS = [torch.randn(4, 3, 32, 32), torch.randn(4, 3, 32, 32)]


@pytest.mark.parametrize('cfg, needed', [(SMALL_MOCO, ['MomentumUpdateHook', 'QueueHook']),
                                         (SMALL_BYOL, ['MomentumUpdateHook']),
                                         (SMALL_SIMCLR, [])])
def test_required_hooks_follow_from_the_model(cfg, needed):
    assert MODELS.build(cfg).required_hooks() == needed


def test_first_training_step_without_queue_hook_fails_in_one_line():
    model = MODELS.build(SMALL_MOCO)
    model.declare_training_hooks('MomentumUpdateHook')
    losses = model(VIEWS, mode='loss')
    with pytest.raises(MissingTrainingHookError) as err:
        model.parse_losses(losses)  # MMEngine's train_step and DDP wrapper both call it
    message = str(err.value)
    assert '\n' not in message
    assert message == ('MoCo trains without QueueHook: its memory of negatives (queue or bank) '
                       "would never be updated; add dict(type='QueueHook') to custom_hooks")


def test_declared_hooks_let_the_step_run():
    model = MODELS.build(SMALL_BYOL)
    model.declare_training_hooks('MomentumUpdateHook')
    loss, _ = model.parse_losses(model(VIEWS, mode='loss'))
    assert torch.isfinite(loss)
