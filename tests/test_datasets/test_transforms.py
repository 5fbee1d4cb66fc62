import torch
from PIL import Image

from moco_plugin.datasets.transforms import MoCoV1Augment, MoCoV2Augment, MultiView
from moco_plugin.registry import TRANSFORMS


def test_v2_blur_only_for_large_images():
    assert MoCoV2Augment(size=32).blur_prob == 0.0
    assert MoCoV2Augment(size=224).blur_prob == 0.5
    names = [type(t).__name__ for t in MoCoV2Augment(size=224).transforms]
    assert names == ['RandomResizedCrop', 'RandomApply', 'RandomGrayscale', 'GaussianBlur',
                     'RandomHorizontalFlip', 'ToUint8Tensor']


def test_v2_parameters_match_paper():
    aug = MoCoV2Augment(size=64)
    crop, jitter = aug.transforms[0], aug.transforms[1]
    assert crop.scale == (0.2, 1.0)
    assert jitter.p == 0.8
    cj = jitter.transforms[0]
    assert (cj.brightness, cj.contrast, cj.saturation, cj.hue) == ((0.6, 1.4), (0.6, 1.4), (0.6, 1.4), (-0.1, 0.1))


def test_v1_uses_strong_hue_jitter_always():
    cj = [t for t in MoCoV1Augment(size=32).transforms if type(t).__name__ == 'ColorJitter'][0]
    assert cj.hue == (-0.4, 0.4)


def test_multiview_gives_independent_uint8_views():
    torch.manual_seed(0)
    view = MultiView(transforms=[dict(type='MoCoV2Augment', size=16)], num_views=2)
    image = Image.frombytes('RGB', (32, 32), bytes(range(256)) * 12)
    a, b = view(image)
    assert a.shape == b.shape == (3, 16, 16) and a.dtype == torch.uint8
    assert not torch.equal(a, b)


def test_multiview_per_view_pipelines():
    view = TRANSFORMS.build(dict(type='MultiView', transforms=[
        [dict(type='ResizeCenterCrop', size=8, resize=8)], [dict(type='ResizeCenterCrop', size=4, resize=4)]]))
    a, b = view(Image.new('RGB', (10, 10)))
    assert a.shape == (3, 8, 8) and b.shape == (3, 4, 4)


def test_v2_jitter_strength_and_grayscale_are_configurable():
    aug = MoCoV2Augment(size=32, jitter_strength=0.5, gray_prob=0.0)
    cj = aug.transforms[1].transforms[0]
    assert (cj.brightness, cj.hue) == ((0.8, 1.2), (-0.05, 0.05))
    assert aug.transforms[2].p == 0.0
