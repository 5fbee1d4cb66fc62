"""NT-Xent (normalised temperature-scaled cross-entropy) loss of SimCLR."""
from __future__ import annotations

import torch
from lightly.loss import NTXentLoss
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class NTXentHead(nn.Module):
    """Contrastive loss over in-batch negatives of `SimCLR <https://arxiv.org/abs/2002.05709>`_.

    For a batch of ``N`` images the two views give ``2N`` embeddings; each one
    has its other view as positive and the ``2N - 2`` others as negatives.
    Wraps :class:`lightly.loss.NTXentLoss`, which L2-normalises the inputs and
    gathers embeddings across processes when ``gather_distributed`` is set.

    Args:
        temperature: ``T`` (0.5 in SimCLR's CIFAR-10 experiments).
        gather_distributed: Use the negatives of every process.
    """

    def __init__(self, temperature: float = 0.5, gather_distributed: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.criterion = NTXentLoss(temperature=temperature, gather_distributed=gather_distributed)

    def loss(self, z_1: torch.Tensor, z_2: torch.Tensor) -> torch.Tensor:
        """NT-Xent of the two views' embeddings ``(N, D)`` (computed in float32)."""
        return self.criterion(z_1.float(), z_2.float())
