"""Projection neck of SimSiam (reuses lightly's head)."""
from __future__ import annotations

import torch
from lightly.models.modules import SimSiamProjectionHead
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class SimSiamNeck(nn.Module):
    """Three-layer projection MLP (BN on every layer, last BN without affine) of
    `SimSiam <https://arxiv.org/abs/2011.10566>`_.

    Built from :class:`lightly.models.modules.SimSiamProjectionHead`;
    parameters live in ``head.layers.*``.

    Args:
        in_channels: Backbone feature size.
        hid_channels: Hidden size (2048 in the paper).
        out_channels: Projection size (2048 in the paper).
    """

    def __init__(self, in_channels: int = 2048, hid_channels: int = 2048,
                 out_channels: int = 2048) -> None:
        super().__init__()
        self.head = SimSiamProjectionHead(in_channels, hid_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)
