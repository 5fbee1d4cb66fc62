"""Projection neck of SimCLR (reuses lightly's head)."""
from __future__ import annotations

import torch
from lightly.models.modules import SimCLRProjectionHead
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class SimCLRNeck(nn.Module):
    """fc-BN-ReLU-fc(-BN) projection of `SimCLR <https://arxiv.org/abs/2002.05709>`_.

    Built from :class:`lightly.models.modules.SimCLRProjectionHead` (SimCLR v2
    layout with batch norm); parameters live in ``head.layers.*``.

    Args:
        in_channels: Backbone feature size (512 for ResNet-18).
        hid_channels: Hidden size.
        out_channels: Embedding size (128 in the paper).
        num_layers: Linear layers in the projection (2 in SimCLR v1).
        batch_norm: Batch norm after each linear layer.
    """

    def __init__(self, in_channels: int = 2048, hid_channels: int = 2048, out_channels: int = 128,
                 num_layers: int = 2, batch_norm: bool = True) -> None:
        super().__init__()
        self.head = SimCLRProjectionHead(in_channels, hid_channels, out_channels,
                                         num_layers=num_layers, batch_norm=batch_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)
