"""Supervised baseline: the same backbone trained with labels."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS


@MODELS.register_module()
class Supervised(BaseSelfSupervisor):
    """Backbone + linear classifier trained with cross-entropy on the labels.

    The upper reference of the SSL comparison: same backbone, data and
    schedule, but the labels (``data_samples['gt_label']``) are used. Only
    the backbone is evaluated by the benchmarks, like every other algorithm.

    Args:
        backbone: Backbone config.
        head: Classifier config (``LinearClsHead``).
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    def __init__(self, backbone: dict, head: dict, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, None, head, data_preprocessor, init_cfg)

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        if not data_samples or 'gt_label' not in data_samples:
            raise ValueError('Supervised needs labels: the dataset items must carry '
                             "data_samples['gt_label']")
        labels = data_samples['gt_label'].to(inputs[0].device).long().view(-1)
        return dict(loss=self.head.loss(self.backbone(inputs[0]), labels))
