"""The "random init" baseline: a backbone that is never trained."""
from __future__ import annotations

from typing import Dict, List, Optional

import torch

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.registry import MODELS


@MODELS.register_module()
class RandomInit(BaseSelfSupervisor):
    """A randomly initialised backbone, the floor of every representation benchmark.

    It has nothing to train: evaluate it directly with
    ``tools/benchmark_linear.py CONFIG random`` (the weights come from
    ``init_weights()`` under a fixed seed, so the features are reproducible).

    Args:
        backbone: Backbone config.
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    def __init__(self, backbone: dict, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, None, None, data_preprocessor, init_cfg)

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        raise ValueError('RandomInit is an untrained baseline and cannot be pretrained; evaluate '
                         'it with: tools/benchmark_linear.py CONFIG random')
