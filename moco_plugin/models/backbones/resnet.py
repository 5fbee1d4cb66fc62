"""ResNet backbone built on torchvision's implementation."""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models import resnet

from moco_plugin.registry import MODELS

_ARCHS = {18: (resnet.BasicBlock, [2, 2, 2, 2]), 34: (resnet.BasicBlock, [3, 4, 6, 3]),
          50: (resnet.Bottleneck, [3, 4, 6, 3])}


@MODELS.register_module()
class ResNet(resnet.ResNet):
    """torchvision ResNet without its classifier; returns pooled features.

    The state-dict keys are torchvision's (minus ``fc.*``), so an exported
    backbone loads strictly into ``torchvision.models.resnetXX()`` once its
    ``fc`` is replaced. `Deep Residual Learning <https://arxiv.org/abs/1512.03385>`_.

    Args:
        depth: 18, 34 or 50.
        cifar_stem: Replace the 7x7 stride-2 conv1 and the max-pool by a 3x3
            stride-1 conv, as is usual for 32x32 inputs (MoCo CIFAR-10 demo).
        zero_init_residual: Zero-initialise the last BN of each residual
            branch so that every block starts as the identity.
        stem_pool: Keep the ImageNet stem's 3x3 stride-2 max-pool. Without it
            a 32x32 image keeps 16x16 maps after the stem (2x2 at the last
            stage instead of 1x1): about 2x the cost of the ImageNet stem
            and a third of the CIFAR stem's on a CPU
            (``benchmarks/scripts/stem_speed.py``). Ignored with ``cifar_stem``,
            which has no pool.
    """

    def __init__(self, depth: int = 50, cifar_stem: bool = False,
                 zero_init_residual: bool = False, stem_pool: bool = True) -> None:
        if depth not in _ARCHS:
            raise ValueError(f'ResNet depth must be one of {sorted(_ARCHS)}, got {depth}')
        block, layers = _ARCHS[depth]
        super().__init__(block, layers, zero_init_residual=zero_init_residual)
        self.depth = depth
        self.cifar_stem = cifar_stem
        self.stem_pool = stem_pool and not cifar_stem
        self.out_channels = self.fc.in_features
        self.fc = nn.Identity()
        if cifar_stem:
            self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
            nn.init.kaiming_normal_(self.conv1.weight, mode='fan_out', nonlinearity='relu')
        if not self.stem_pool:
            self.maxpool = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return globally average-pooled features of shape ``(N, out_channels)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)
