"""Two-layer MLP projection neck of MoCo v2 (reuses lightly's head)."""
from __future__ import annotations

import torch
from lightly.models.modules import MoCoProjectionHead
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class MoCoV2Neck(nn.Module):
    """fc-ReLU-fc projection of `MoCo v2 <https://arxiv.org/abs/2003.04297>`_.

    Built from :class:`lightly.models.modules.MoCoProjectionHead` so the layer
    layout is the community's; parameters live in ``head.layers.0`` (first fc)
    and ``head.layers.2`` (second fc), which map one-to-one to the official
    release's ``fc.0`` and ``fc.2``.

    Args:
        in_channels: Backbone feature size.
        hid_channels: Hidden size (the official v2 uses the input size).
        out_channels: Embedding size.
    """

    def __init__(self, in_channels: int = 2048, hid_channels: int = 2048,
                 out_channels: int = 128) -> None:
        super().__init__()
        self.head = MoCoProjectionHead(in_channels, hid_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)
