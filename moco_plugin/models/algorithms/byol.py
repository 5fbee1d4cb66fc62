"""BYOL: bootstrap your own latent."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS


@MODELS.register_module()
class BYOL(BaseSelfSupervisor):
    """`BYOL <https://arxiv.org/abs/2006.07733>`_: predict a momentum target, no negatives.

    * online network: ``backbone`` + ``neck`` (projection) + the predictor in
      ``head`` (:class:`LatentPredictHead`);
    * target network: ``target_backbone`` + ``target_neck``, frozen copies
      that :class:`MomentumUpdateHook` moves as an exponential moving average
      of the online ones (declared in :meth:`momentum_pairs`; the paper's
      cosine schedule 0.99 -> 1 is the hook's ``schedule='cosine'``);
    * loss: symmetric ``-cos(q(z_online(v1)), z_target(v2))`` + the swapped
      pair, averaged.

    Args:
        backbone: Backbone config.
        neck: Projection neck config (``BYOLNeck``).
        head: Predictor + loss config (``LatentPredictHead`` with ``predictor='byol'``).
        momentum: Start momentum of the target network (default 0.99).
        end_momentum: End momentum of the cosine schedule (default 1.0).
        momentum_schedule: ``'cosine'`` (default) or ``'constant'``.
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    # The paper's schedule: 0.99 rising to 1 along a cosine (Sec. 3.2).
    DEFAULT_MOMENTUM = dict(momentum=0.99, end_momentum=1.0, schedule='cosine')

    def __init__(self, backbone: dict, neck: dict, head: dict, momentum: Optional[float] = None,
                 end_momentum: Optional[float] = None, momentum_schedule: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        self.set_momentum(momentum, end_momentum, momentum_schedule)
        self.target_backbone = self.momentum_copy(self.backbone)
        self.target_neck = self.momentum_copy(self.neck)

    def momentum_pairs(self) -> Sequence[Tuple[nn.Module, nn.Module]]:
        return [(self.backbone, self.target_backbone), (self.neck, self.target_neck)]

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        self._check_views(inputs, 2, 'BYOL')
        online_1, online_2 = self.embed_views(inputs[:2])
        with torch.no_grad():
            both = torch.cat([inputs[0], inputs[1]], dim=0)
            target_1, target_2 = self.target_neck(self.target_backbone(both)).chunk(2)
        loss = 0.5 * (self.head.loss(online_1, target_2) + self.head.loss(online_2, target_1))
        return dict(loss=loss)
