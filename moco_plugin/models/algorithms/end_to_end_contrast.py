"""End-to-end contrastive learning: keys from the query encoder, negatives from the batch."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch
import torch.nn.functional as F

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS


def other_keys(keys: torch.Tensor) -> torch.Tensor:
    """``(N, N - 1, C)``: for each row ``i`` the keys of every other row, in order.

    Example:
        >>> other_keys(torch.arange(3.).view(3, 1)).squeeze(-1).tolist()
        [[1.0, 2.0], [0.0, 2.0], [0.0, 1.0]]
    """
    n = keys.shape[0]
    columns = torch.arange(n - 1, device=keys.device).expand(n, n - 1)
    columns = columns + (columns >= torch.arange(n, device=keys.device).view(-1, 1)).long()
    return keys[columns]


@MODELS.register_module()
class EndToEndContrast(BaseSelfSupervisor):
    """The end-to-end mechanism of MoCo's comparison (`arXiv 1911.05722
    <https://arxiv.org/abs/1911.05722>`_, Fig. 2a): the key encoder is the query encoder
    itself and is trained by back-propagation through the keys; the negatives of a query
    are the keys of the other images of the same batch, so ``K = batch size - 1`` and the
    dictionary is as large as the batch a machine can hold. Same InfoNCE head as MoCo.

    Args:
        backbone: Backbone config.
        neck: Projection neck config.
        head: ``InfoNCEHead`` config.
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        """InfoNCE of view 1's queries against view 2's keys, gradients through both."""
        self._check_views(inputs, 2, 'EndToEndContrast')
        if inputs[0].shape[0] < 2:
            raise ValueError('EndToEndContrast needs batches of at least 2 images (the negatives '
                             'are the other images of the batch)')
        # Two passes, as two encoders would see them: BN statistics are per view batch.
        query, key = (F.normalize(self.neck(self.backbone(view)).float(), dim=1)
                      for view in inputs[:2])
        return dict(loss=self.head.loss(query, key, other_keys(key)))
