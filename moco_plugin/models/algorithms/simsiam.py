"""SimSiam: simple Siamese representation learning."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS


@MODELS.register_module()
class SimSiam(BaseSelfSupervisor):
    """`SimSiam <https://arxiv.org/abs/2011.10566>`_: BYOL without the momentum encoder.

    Both views go through the same ``backbone`` + ``neck``; the predictor in
    ``head`` (:class:`LatentPredictHead`, ``predictor='simsiam'``) maps one
    view's projection to the other's, which receives no gradient
    (stop-gradient is what prevents collapse). Loss:
    ``0.5 * (D(p1, sg(z2)) + D(p2, sg(z1)))`` with ``D = -cos``.

    Args:
        backbone: Backbone config.
        neck: Projection neck config (``SimSiamNeck``).
        head: Predictor + loss config.
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        self._check_views(inputs, 2, 'SimSiam')
        z_1, z_2 = self.embed_views(inputs[:2])
        # LatentPredictHead.loss detaches its target argument: the stop-gradient.
        loss = 0.5 * (self.head.loss(z_1, z_2) + self.head.loss(z_2, z_1))
        return dict(loss=loss)
