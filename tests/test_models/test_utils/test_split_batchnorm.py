import pytest
import torch
from torch import nn

from moco_plugin.models.utils import SplitBatchNorm2d, convert_split_bn


def test_split_bn_normalises_each_sub_batch_separately():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 4, 4) * 3 + 1
    split = SplitBatchNorm2d(3, num_splits=2).train()
    out = split(x)
    for group in range(2):  # sample n belongs to sub-batch n % num_splits
        members = x[group::2]
        mean = members.mean(dim=(0, 2, 3), keepdim=True)
        var = members.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        torch.testing.assert_close(out[group::2], (members - mean) / torch.sqrt(var + split.eps),
                                   atol=1e-5, rtol=1e-5)


def test_split_bn_running_stats_are_average_of_sub_batches():
    torch.manual_seed(0)
    x = torch.randn(8, 2, 3, 3)
    split = SplitBatchNorm2d(2, num_splits=2, momentum=1.0).train()
    split(x)
    expected_mean = torch.stack([x[g::2].mean(dim=(0, 2, 3)) for g in range(2)]).mean(0)
    torch.testing.assert_close(split.running_mean, expected_mean, atol=1e-6, rtol=1e-6)


def test_split_bn_in_eval_mode_equals_batchnorm():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    bn.running_mean.uniform_()
    bn.running_var.uniform_(0.5, 2)
    split = SplitBatchNorm2d(3, num_splits=4)
    split.load_state_dict(bn.state_dict())
    x = torch.randn(4, 3, 2, 2)
    torch.testing.assert_close(split.eval()(x), bn.eval()(x))


def test_convert_replaces_nested_bn_and_keeps_state_dict_keys():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.Sequential(nn.BatchNorm2d(4)))
    keys = set(model.state_dict())
    convert_split_bn(model, 2)
    assert isinstance(model[1], SplitBatchNorm2d) and isinstance(model[2][0], SplitBatchNorm2d)
    assert set(model.state_dict()) == keys


def test_batch_not_divisible_gives_clear_error():
    with pytest.raises(ValueError, match='not divisible by num_splits=4'):
        SplitBatchNorm2d(2, num_splits=4).train()(torch.randn(6, 2, 2, 2))
