import pytest
import torch
import torchvision
from torch import nn

from moco_plugin.models.backbones import ResNet


@pytest.mark.parametrize('depth, channels', [(18, 512), (34, 512), (50, 2048)])
def test_pooled_output_shape(depth, channels):
    model = ResNet(depth=depth).eval()
    assert model.out_channels == channels
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, channels)


def test_cifar_stem_keeps_resolution():
    model = ResNet(depth=18, cifar_stem=True)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    assert isinstance(model.maxpool, nn.Identity)
    feature_map = model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(torch.randn(1, 3, 32, 32))))))
    assert feature_map.shape[-2:] == (32, 32)


def _stem_output_size(model: ResNet, size: int = 32):
    return tuple(model.maxpool(model.relu(model.bn1(model.conv1(torch.randn(1, 3, size, size))))).shape[-2:])


def test_stem_pool_off_keeps_twice_the_resolution_with_imagenet_conv1():
    pooled, unpooled = ResNet(depth=18), ResNet(depth=18, stem_pool=False)
    assert unpooled.conv1.kernel_size == (7, 7) and unpooled.conv1.stride == (2, 2)
    assert _stem_output_size(pooled) == (8, 8) and _stem_output_size(unpooled) == (16, 16)
    assert unpooled.eval()(torch.randn(2, 3, 32, 32)).shape == (2, 512)
    # same parameters as torchvision's, so it still exports strictly
    assert unpooled.state_dict().keys() == pooled.state_dict().keys()
    assert not ResNet(depth=18, cifar_stem=True, stem_pool=True).stem_pool


def test_zero_init_residual_zeroes_last_bn_of_each_block():
    model = ResNet(depth=50, zero_init_residual=True)
    assert torch.all(model.layer1[0].bn3.weight == 0)
    assert torch.all(ResNet(depth=18, zero_init_residual=True).layer2[1].bn2.weight == 0)
    assert not torch.all(ResNet(depth=18).layer2[1].bn2.weight == 0)


def test_state_dict_loads_strictly_into_torchvision_and_matches_features():
    torch.manual_seed(0)
    ours = ResNet(depth=18).eval()
    reference = torchvision.models.resnet18()
    reference.fc = nn.Identity()
    reference.load_state_dict(ours.state_dict(), strict=True)
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(ours(x), reference.eval()(x))


def test_bad_depth_is_rejected():
    with pytest.raises(ValueError, match='depth must be one of'):
        ResNet(depth=20)
