"""Split batch normalisation: single-process emulation of per-GPU BN."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SplitBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are computed per sub-batch.

    MoCo relies on BN statistics being computed over small per-GPU batches
    (with keys shuffled across GPUs, "shuffle BN") so that the model cannot
    use batch statistics to find the positive key. On one device, the MoCo
    authors' CIFAR-10 demo emulates this by splitting the batch into
    ``num_splits`` groups; this is that layer. Sample ``n`` falls into group
    ``n % num_splits``. The state-dict layout equals ``nn.BatchNorm2d``'s.

    Args:
        num_features: Channels.
        num_splits: Number of sub-batches; the batch size must be divisible by it.
    """

    def __init__(self, num_features: int, num_splits: int, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        self.num_splits = num_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.num_splits == 1:
            return super().forward(x)
        n, c, h, w = x.shape
        if n % self.num_splits:
            raise ValueError(f'SplitBatchNorm2d: batch size {n} is not divisible by '
                             f'num_splits={self.num_splits}; change the batch size or bn_splits')
        s = self.num_splits
        running_mean = self.running_mean.repeat(s)
        running_var = self.running_var.repeat(s)
        out = F.batch_norm(x.reshape(n // s, c * s, h, w), running_mean, running_var,
                           self.weight.repeat(s), self.bias.repeat(s), True, self.momentum, self.eps)
        with torch.no_grad():
            self.running_mean.copy_(running_mean.view(s, c).mean(0))
            self.running_var.copy_(running_var.view(s, c).mean(0))
            self.num_batches_tracked.add_(1)
        return out.view(n, c, h, w)


def convert_split_bn(module: nn.Module, num_splits: int) -> nn.Module:
    """Replace every ``nn.BatchNorm2d`` in ``module`` by :class:`SplitBatchNorm2d` in place."""
    if num_splits <= 1:
        return module
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d) and not isinstance(child, SplitBatchNorm2d):
            split = SplitBatchNorm2d(child.num_features, num_splits, eps=child.eps,
                                     momentum=child.momentum, affine=child.affine,
                                     track_running_stats=child.track_running_stats)
            split.load_state_dict(child.state_dict())
            setattr(module, name, split)
        else:
            convert_split_bn(child, num_splits)
    return module
