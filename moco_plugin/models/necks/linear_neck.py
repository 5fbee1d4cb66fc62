"""Linear projection neck of MoCo v1."""
from __future__ import annotations

import torch
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class LinearNeck(nn.Module):
    """A single fully-connected layer, MoCo v1's projection to the embedding.

    `MoCo v1 <https://arxiv.org/abs/1911.05722>`_ replaces the ResNet
    classifier by an ``fc`` to a 128-d embedding.

    Args:
        in_channels: Backbone feature size (512 for ResNet-18, 2048 for ResNet-50).
        out_channels: Embedding size.
    """

    def __init__(self, in_channels: int = 2048, out_channels: int = 128) -> None:
        super().__init__()
        self.fc = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)
