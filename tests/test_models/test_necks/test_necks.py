import torch
from torch import nn

from moco_plugin.models.necks import LinearNeck, MoCoV2Neck


def test_linear_neck_is_one_fc():
    neck = LinearNeck(in_channels=8, out_channels=4)
    assert [type(m) for m in neck.children()] == [nn.Linear]
    assert neck(torch.randn(3, 8)).shape == (3, 4)


def test_mocov2_neck_is_fc_relu_fc():
    neck = MoCoV2Neck(in_channels=8, hid_channels=6, out_channels=4)
    layers = list(neck.head.layers)
    assert [type(m) for m in layers] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (layers[0].in_features, layers[0].out_features, layers[2].out_features) == (8, 6, 4)
    x = torch.randn(3, 8)
    torch.testing.assert_close(neck(x), layers[2](torch.relu(layers[0](x))))
