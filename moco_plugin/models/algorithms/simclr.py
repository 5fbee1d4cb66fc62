"""SimCLR: a simple framework for contrastive learning of visual representations."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS


@MODELS.register_module()
class SimCLR(BaseSelfSupervisor):
    """`SimCLR <https://arxiv.org/abs/2002.05709>`_: two views, in-batch negatives.

    Each view goes through ``backbone`` + ``neck``; ``head``
    (:class:`NTXentHead`) contrasts every embedding with the other view of its
    image against the other ``2N - 2`` embeddings of the batch. No queue and
    no momentum encoder, so the batch size is the number of negatives.

    Args:
        backbone: Backbone config.
        neck: Projection neck config (``SimCLRNeck``).
        head: Loss head config (``NTXentHead``).
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        self._check_views(inputs, 2, 'SimCLR')
        z_1, z_2 = self.embed_views(inputs[:2])
        return dict(loss=self.head.loss(z_1, z_2))
