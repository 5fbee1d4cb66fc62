"""Linear classifier + cross-entropy: the head of the supervised baseline."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class LinearClsHead(nn.Module):
    """A fully-connected classifier on pooled features, trained with cross-entropy.

    Args:
        in_channels: Feature size.
        num_classes: Number of classes.
    """

    def __init__(self, in_channels: int = 2048, num_classes: int = 1000) -> None:
        super().__init__()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)

    def loss(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self(features).float(), labels)
