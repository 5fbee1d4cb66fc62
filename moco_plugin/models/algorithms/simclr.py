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

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        self._check_views(inputs, 2, 'SimCLR')
        # One backbone pass over both views: BN statistics are shared across the
        # 2N images as in the paper (and it is one larger, faster batch).
        batch = inputs[0].shape[0]
        embeddings = self.neck(self.backbone(torch.cat([inputs[0], inputs[1]], dim=0)))
        return dict(loss=self.head.loss(embeddings[:batch], embeddings[batch:]))
