"""InfoNCE loss of MoCo: where the loss is computed."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from moco_plugin.registry import MODELS


@MODELS.register_module()
class InfoNCEHead(nn.Module):
    """InfoNCE over one positive key and a queue of negatives.

    ``logits = [q.k+, q.queue] / T`` and the loss is the cross-entropy with
    the positive at index 0 (`MoCo <https://arxiv.org/abs/1911.05722>`_, Eq. 1).
    Inputs are expected to be L2-normalised. The similarities are computed in
    float32 even under autocast: in bf16 a cosine carries ~3 significant
    digits, and dividing by ``T`` turns that rounding into logit noise of the
    size of the differences the loss has to learn from.

    Args:
        temperature: ``T``; 0.07 in MoCo v1, 0.2 in MoCo v2.
    """

    def __init__(self, temperature: float = 0.2) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def logits(self, query: torch.Tensor, key: torch.Tensor, negatives: torch.Tensor,
               negative_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Return the ``(N, 1 + K)`` logits; column 0 is the positive.

        ``negatives`` is ``(K, C)``, shared by all queries (MoCo's queue), or ``(N, K, C)``,
        one set per query (a memory bank's draws, the other keys of an end-to-end batch).
        ``negative_mask`` (``N x K`` or ``1 x K``, ``True`` = drop) sets those logits to
        ``-inf``: they take no part in the softmax (a query's own image, empty queue slots).

        Example:
            >>> head = InfoNCEHead(temperature=0.5)
            >>> query = torch.tensor([[1., 0.], [0., 1.]])          # N x C = 2 x 2
            >>> key = torch.tensor([[1., 0.], [1., 0.]])            # N x C, the positives
            >>> queue = torch.tensor([[0., 1.], [-1., 0.], [0., -1.]])  # K x C = 3 x 2
            >>> logits = head.logits(query, key, queue)
            >>> tuple(logits.shape)                                 # N x (1 + K)
            (2, 4)
            >>> logits.tolist()                                     # cosines / T
            [[2.0, 0.0, -2.0, 0.0], [0.0, 2.0, 0.0, -2.0]]
            >>> tuple(head.logits(query, key, torch.zeros(2, 5, 2)).shape)  # N x K x C
            (2, 6)
            >>> head.logits(query, key, queue, torch.tensor([[True, False, False]]))[:, 1].tolist()
            [-inf, -inf]
        """
        with torch.autocast(query.device.type, enabled=False):
            query, key, negatives = query.float(), key.float(), negatives.float()
            positive = (query * key).sum(dim=1, keepdim=True)
            negative = (query @ negatives.t() if negatives.dim() == 2 else
                        torch.einsum('nc,nkc->nk', query, negatives))
            if negative_mask is not None:
                negative = negative.masked_fill(negative_mask.to(negative.device), float('-inf'))
            return torch.cat([positive, negative], dim=1) / self.temperature

    def loss(self, query: torch.Tensor, key: torch.Tensor, negatives: torch.Tensor,
             negative_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Cross-entropy of :meth:`logits` with target 0 for every row."""
        logits = self.logits(query, key, negatives, negative_mask)
        target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        return F.cross_entropy(logits, target)
