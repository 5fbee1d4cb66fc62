"""Each batched operation gives what torchvision's per-image functional op gives for the same parameters."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image

from moco_plugin.datasets.transforms import MoCoV2Augment
from moco_plugin.models.data_preprocessors import BatchMoCoAugment, MoCoAugmentParams
from moco_plugin.models.data_preprocessors import batch_image_ops as ops
from moco_plugin.models.data_preprocessors.batch_image_ops import (BRIGHTNESS, CONTRAST, HUE,
                                                                    SATURATION)


def smooth_images(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Natural-ish float images in [0, 255]: colour gradients plus noise, some saturated pixels."""
    gen = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 1, size)
    base = torch.rand(n, 3, 1, 1, generator=gen) * 255
    slope = (torch.rand(n, 3, 2, generator=gen) - 0.5) * 300
    images = base + slope[..., 0, None, None] * ramp.view(1, 1, -1, 1) \
        + slope[..., 1, None, None] * ramp.view(1, 1, 1, -1)
    images = images + torch.randn(n, 3, size, size, generator=gen) * 10
    return images.clamp(0, 255).round()


def one_op_params(n: int, op: int, factor: float) -> tuple:
    order = torch.tensor([op] + [o for o in range(4) if o != op]).repeat(n, 1)
    factors = torch.tensor([1.0, 1.0, 1.0, 0.0]).repeat(n, 1)
    factors[:, op] = factor
    return factors, order, torch.ones(n, dtype=torch.bool)


@pytest.mark.parametrize('box', [(0, 0, 32, 32), (3, 5, 17, 21), (10, 0, 22, 9), (31, 31, 1, 1)])
@pytest.mark.parametrize('flip', [False, True])
def test_resized_crop_and_flip_match_torchvision(box, flip):
    images = smooth_images(2)
    top, left, height, width = box
    rows = ops.resize_weights(torch.tensor([top, top]), torch.tensor([height, height]), 32, 32)
    cols = ops.resize_weights(torch.tensor([left, left]), torch.tensor([width, width]), 32, 32,
                              flip=torch.tensor([flip, flip]))
    ours = ops.resample(images, rows, cols)
    reference = TF.resized_crop(images, top, left, height, width, [32, 32], antialias=True)
    if flip:
        reference = TF.hflip(reference)
    torch.testing.assert_close(ours, reference, atol=1e-3, rtol=1e-5)


def test_downscaling_crop_is_antialiased_like_torchvision():
    images = smooth_images(1, size=96)
    rows = ops.resize_weights(torch.tensor([4]), torch.tensor([90]), 96, 24)
    cols = ops.resize_weights(torch.tensor([1]), torch.tensor([77]), 96, 24)
    reference = TF.resized_crop(images, 4, 1, 90, 77, [24, 24], antialias=True)
    torch.testing.assert_close(ops.resample(images, rows, cols), reference, atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize('op, factor, reference', [
    (BRIGHTNESS, 0.6, TF.adjust_brightness), (BRIGHTNESS, 1.4, TF.adjust_brightness),
    (CONTRAST, 0.6, TF.adjust_contrast), (CONTRAST, 1.4, TF.adjust_contrast),
    (SATURATION, 0.6, TF.adjust_saturation), (SATURATION, 1.4, TF.adjust_saturation),
    (HUE, -0.1, TF.adjust_hue), (HUE, 0.07, TF.adjust_hue), (HUE, 0.4, TF.adjust_hue)])
def test_single_colour_op_matches_torchvision(op, factor, reference):
    images = smooth_images(4)
    factors, order, applied = one_op_params(4, op, factor)
    ours = ops.color_jitter(images, factors, order, applied)
    expected = reference(images / 255, factor) * 255
    torch.testing.assert_close(ours, expected, atol=2e-3, rtol=1e-5)


@pytest.mark.parametrize('hue_on_subset', [True, False])
def test_random_order_jitter_matches_torchvision_sequence(hue_on_subset):
    """Per-sample order and factors, applied as torchvision's ColorJitter.forward would."""
    n = 24
    images = smooth_images(n, seed=1)
    gen = torch.Generator().manual_seed(3)
    order = torch.rand(n, 4, generator=gen).argsort(dim=1)
    factors = torch.stack([0.6 + 0.8 * torch.rand(n, generator=gen) for _ in range(3)]
                          + [0.2 * torch.rand(n, generator=gen) - 0.1], dim=1)
    applied = torch.rand(n, generator=gen) < 0.8
    ours = ops.color_jitter(images, factors, order, applied, hue_on_subset=hue_on_subset)
    functions = {BRIGHTNESS: TF.adjust_brightness, CONTRAST: TF.adjust_contrast,
                 SATURATION: TF.adjust_saturation, HUE: TF.adjust_hue}
    for i in range(n):
        expected = images[i] / 255
        if applied[i]:
            for op in order[i].tolist():
                expected = functions[op](expected, float(factors[i, op]))
        torch.testing.assert_close(ours[i], expected * 255, atol=3e-3, rtol=1e-5)
    assert torch.equal(ours[~applied], images[~applied])  # untouched samples are bit-identical


def test_grayscale_matches_torchvision():
    images = smooth_images(4)
    flags = torch.tensor([True, False, True, False])
    ours = ops.random_grayscale(images, flags)
    expected = TF.rgb_to_grayscale(images / 255, num_output_channels=3) * 255
    torch.testing.assert_close(ours[flags], expected[flags], atol=1e-3, rtol=1e-5)
    assert torch.equal(ours[~flags], images[~flags])


def test_gaussian_blur_is_a_normalised_gaussian_with_repeated_edges():
    images = smooth_images(2, size=64)
    sigma = torch.tensor([0.7, 2.0])
    radius = 6
    weights = ops.gaussian_blur_weights(sigma, 64, radius)
    ours = ops.resample(images, weights, weights)
    for i, s in enumerate(sigma.tolist()):
        taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1.0) / s) ** 2)
        taps = taps / taps.sum()
        padded = F.pad(images[i:i + 1], (radius,) * 4, mode='replicate')
        kernel = (taps[:, None] * taps[None, :]).expand(3, 1, -1, -1)
        expected = F.conv2d(padded, kernel, groups=3)
        torch.testing.assert_close(ours[i:i + 1], expected, atol=1e-3, rtol=1e-5)
    assert torch.allclose(ops.gaussian_blur_weights(torch.zeros(1), 8, 3), torch.eye(8))


def test_full_pipeline_equals_torchvision_ops_with_the_sampled_parameters():
    """augment() = crop/flip, jitter in the sampled order, grayscale, as torchvision per image."""
    aug = BatchMoCoAugment(seed=5)
    images = smooth_images(16, seed=2)
    params = aug.sample_params(16, 32, 32)
    ours = aug.augment(images, params)
    functions = {BRIGHTNESS: TF.adjust_brightness, CONTRAST: TF.adjust_contrast,
                 SATURATION: TF.adjust_saturation, HUE: TF.adjust_hue}
    for i in range(16):
        top, left, height, width = params.crop_boxes[i].tolist()
        expected = TF.resized_crop(images[i], top, left, height, width, [32, 32], antialias=True) / 255
        if params.jitter_applied[i]:
            for op in params.jitter_order[i].tolist():
                expected = functions[op](expected, float(params.jitter_factors[i, op]))
        if params.grayscale[i]:
            expected = TF.rgb_to_grayscale(expected, num_output_channels=3)
        if params.flip[i]:
            expected = TF.hflip(expected)
        torch.testing.assert_close(ours[i], expected * 255, atol=5e-3, rtol=1e-5)


def test_output_statistics_match_the_per_image_pil_pipeline():
    """Same law of outputs as MoCoV2Augment on PIL images (which also rounds to uint8 per op)."""
    images = smooth_images(64, seed=4).to(torch.uint8)
    pil = [Image.fromarray(img.permute(1, 2, 0).numpy()) for img in images]
    torch.manual_seed(0)
    per_image = MoCoV2Augment(size=32)
    reference = torch.stack([per_image(p) for p in pil * 16]).float()  # 1,024 views
    batched = BatchMoCoAugment(size=32, seed=0)(images.float().repeat(16, 1, 1, 1))

    def stats(views):
        gray = (views.amax(1) - views.amin(1)).amax(dim=(1, 2)) < 1.5
        return np.array([views.mean(), views.std(), views.mean(dim=(2, 3)).std(), gray.float().mean()])
    ours, theirs = stats(batched), stats(reference)
    # pixel mean, pixel std, spread of per-image colour means (jitter strength), grayscale rate
    assert np.allclose(ours[:3], theirs[:3], rtol=0.05), (ours, theirs)
    assert abs(ours[3] - theirs[3]) < 0.05, (ours, theirs)


def test_params_dataclass_slices_per_sample():
    params = BatchMoCoAugment(seed=0).sample_params(8, 32, 32)
    assert isinstance(params, MoCoAugmentParams)
    assert all(getattr(params, name).shape[0] == 8 for name in params.__dataclass_fields__)
