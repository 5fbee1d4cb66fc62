"""The batched augmentation draws its parameters from the configured ranges with the configured rates.

Every draw comes from a seeded generator, so these tests are deterministic;
the tolerances are also many standard errors wide (N = 40,000), so a change of
seed cannot make them fail by chance.
"""
import math

import numpy as np
import pytest
import torch
from torchvision.transforms import RandomResizedCrop

from moco_plugin.models.data_preprocessors import BatchMoCoAugment
from moco_plugin.models.data_preprocessors.batch_image_ops import (BRIGHTNESS, CONTRAST, HUE,
                                                                    SATURATION)

N = 40_000


@pytest.fixture(scope='module')
def params():
    return BatchMoCoAugment(seed=0).sample_params(N, 32, 32)


@pytest.fixture(scope='module')
def torchvision_boxes():
    """RandomResizedCrop.get_params of torchvision itself, N times."""
    torch.manual_seed(0)
    image = torch.zeros(3, 32, 32)
    return np.array([RandomResizedCrop.get_params(image, [0.2, 1.0], [3 / 4, 4 / 3]) for _ in range(N)])


def test_crop_boxes_lie_inside_the_image(params):
    top, left, height, width = params.crop_boxes.T
    assert (height >= 1).all() and (width >= 1).all()
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + height <= 32).all() and (left + width <= 32).all()


def test_crop_scale_and_ratio_within_configured_ranges(params):
    _, _, height, width = params.crop_boxes.double().T
    area = height * width / 1024
    # Boxes are rounded to whole pixels, so the area fraction can leave [0.2, 1] by rounding only.
    rounding = (2 * 32 * 0.5 + 0.25) / 1024 * 1.5
    assert area.min() >= 0.2 - rounding and area.max() <= 1.0
    log_ratio = torch.log(width / height)
    side_rounding = 2 * 0.5 / math.sqrt(0.2 * 1024 * 3 / 4)  # relative error of a rounded side
    assert log_ratio.min() >= math.log(3 / 4) - side_rounding
    assert log_ratio.max() <= math.log(4 / 3) + side_rounding
    # Both ends of both ranges are reached.
    assert area.min() < 0.21 and area.max() > 0.99
    assert log_ratio.min() < math.log(3 / 4) + 0.02 and log_ratio.max() > math.log(4 / 3) - 0.02


def test_crop_distribution_matches_torchvision(params, torchvision_boxes):
    """Same joint law as torchvision's 10-attempt sampler: compare quantiles of area, ratio, position."""
    ours = params.crop_boxes.double().numpy()
    theirs = torchvision_boxes.astype(np.float64)

    def features(boxes):
        top, left, height, width = boxes.T
        return dict(area=height * width / 1024, log_ratio=np.log(width / height),
                    centre_y=(top + height / 2) / 32, centre_x=(left + width / 2) / 32)

    quantiles = np.linspace(0.05, 0.95, 19)
    for name, value in features(ours).items():
        reference = features(theirs)[name]
        gap = np.abs(np.quantile(value, quantiles) - np.quantile(reference, quantiles)).max()
        assert gap < 0.03, f'{name}: quantiles differ from torchvision by {gap:.3f}'
        assert abs(value.mean() - reference.mean()) < 0.01, name


def test_crop_fallback_is_torchvision_central_crop():
    # A 10:1 image: no 0.2-1 area crop with ratio in [3/4, 4/3] fits in 10 attempts often; the
    # fallback is the central crop clamped to ratio 4/3 (torchvision's rule).
    aug = BatchMoCoAugment(scale=(0.9, 1.0), seed=1)
    boxes = aug.sample_params(2000, 10, 100).crop_boxes
    fallback = torch.tensor([0, (100 - 13) // 2, 10, 13])
    is_fallback = (boxes == fallback).all(dim=1)
    assert is_fallback.float().mean() > 0.99  # area >= 900 px can never fit in a 10 px tall image


def test_flip_rate(params):
    assert abs(params.flip.float().mean().item() - 0.5) < 0.02


def test_jitter_rate_and_factor_ranges(params):
    assert abs(params.jitter_applied.float().mean().item() - 0.8) < 0.02
    brightness, contrast, saturation, hue = params.jitter_factors.T
    for name, factor in (('brightness', brightness), ('contrast', contrast), ('saturation', saturation)):
        assert factor.min() >= 0.6 and factor.max() <= 1.4, name
        assert factor.min() < 0.61 and factor.max() > 1.39, name
        assert abs(factor.mean().item() - 1.0) < 0.01, name
        assert abs(factor.std().item() - 0.8 / math.sqrt(12)) < 0.01, name  # uniform on [0.6, 1.4]
    assert hue.min() >= -0.1 and hue.max() <= 0.1
    assert abs(hue.mean().item()) < 0.005
    assert abs(hue.std().item() - 0.2 / math.sqrt(12)) < 0.005


def test_jitter_order_is_a_uniform_random_permutation(params):
    order = params.jitter_order
    assert (order.sort(dim=1).values == torch.arange(4)).all()  # a permutation per sample
    for op in (BRIGHTNESS, CONTRAST, SATURATION, HUE):
        position_rates = (order == op).float().mean(dim=0)
        assert (position_rates - 0.25).abs().max() < 0.02, op
    codes = (order * torch.tensor([64, 16, 4, 1])).sum(dim=1)
    counts = torch.bincount(codes, minlength=256)[torch.unique(codes)]
    assert len(counts) == 24 and (counts.float() / N - 1 / 24).abs().max() < 0.01


def test_grayscale_rate(params):
    assert abs(params.grayscale.float().mean().item() - 0.2) < 0.02


def test_draws_are_independent_across_ops(params):
    # e.g. a shared uniform between flip and grayscale would show up as correlation.
    flags = torch.stack([params.flip, params.jitter_applied, params.grayscale]).float()
    correlation = torch.corrcoef(flags)
    assert (correlation - torch.eye(3)).abs().max() < 0.03


def test_blur_follows_output_size_and_sigma_range():
    assert not BatchMoCoAugment(seed=0).sample_params(1000, 32, 32).blur_applied.any()
    large = BatchMoCoAugment(size=64, seed=0).sample_params(N, 96, 96)
    assert abs(large.blur_applied.float().mean().item() - 0.5) < 0.02
    assert large.blur_sigma.min() >= 0.1 and large.blur_sigma.max() <= 2.0
    forced = BatchMoCoAugment(blur_prob=1.0, seed=0).sample_params(100, 32, 32)
    assert forced.blur_applied.all()


def test_v1_options():
    aug = BatchMoCoAugment(hue=0.4, jitter_prob=1.0, grayscale_before_jitter=True, blur_prob=0, seed=0)
    params = aug.sample_params(N, 32, 32)
    assert params.jitter_applied.all()
    hue = params.jitter_factors[:, 3]
    assert hue.min() >= -0.4 and hue.max() <= 0.4 and hue.max() > 0.39


@pytest.mark.parametrize('bad', [dict(scale=(0.0, 1.0)), dict(scale=(0.5, 0.2)), dict(ratio=(2, 1)),
                                 dict(flip_prob=1.5), dict(hue=0.6), dict(brightness=-1),
                                 dict(blur_sigma=(2, 1)), dict(seed=-1)])
def test_rejects_invalid_ranges(bad):
    with pytest.raises(ValueError):
        BatchMoCoAugment(**bad)
