"""Projection neck of BYOL (reuses lightly's head)."""
from __future__ import annotations

import torch
from lightly.models.modules import BYOLProjectionHead
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class BYOLNeck(nn.Module):
    """fc-BN-ReLU-fc projection of `BYOL <https://arxiv.org/abs/2006.07733>`_.

    Built from :class:`lightly.models.modules.BYOLProjectionHead`; parameters
    live in ``head.layers.*``. The same module type serves the online network
    and (as a momentum copy) the target network.

    Args:
        in_channels: Backbone feature size.
        hid_channels: Hidden size (4096 in the paper).
        out_channels: Projection size (256 in the paper).
    """

    def __init__(self, in_channels: int = 2048, hid_channels: int = 4096,
                 out_channels: int = 256) -> None:
        super().__init__()
        self.head = BYOLProjectionHead(in_channels, hid_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)
