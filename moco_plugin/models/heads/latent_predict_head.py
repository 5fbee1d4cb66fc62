"""Predictor + negative cosine similarity: the loss of BYOL and SimSiam."""
from __future__ import annotations

import torch
from lightly.loss import NegativeCosineSimilarity
from lightly.models.modules import BYOLPredictionHead, SimSiamPredictionHead
from torch import nn

from moco_plugin.registry import MODELS

_PREDICTORS = {'byol': BYOLPredictionHead, 'simsiam': SimSiamPredictionHead}


@MODELS.register_module()
class LatentPredictHead(nn.Module):
    """Predict the target projection from the online one; loss ``-cos(p, sg(z))``.

    Used by `BYOL <https://arxiv.org/abs/2006.07733>`_ (target from the
    momentum network) and `SimSiam <https://arxiv.org/abs/2011.10566>`_
    (target from the same network, stop-gradient). The predictor MLP is
    lightly's :class:`BYOLPredictionHead` or :class:`SimSiamPredictionHead`
    (parameters in ``predictor.layers.*``); the loss is lightly's
    :class:`NegativeCosineSimilarity`. BYOL's ``2 - 2 cos`` differs from
    ``-cos`` by an affine map (gradients x2), the convention lightly uses.

    Args:
        predictor: ``'byol'`` or ``'simsiam'``: which predictor layout.
        in_channels: Projection size (predictor input).
        hid_channels: Predictor hidden size (4096 for BYOL, 512 for SimSiam).
        out_channels: Predictor output size (equals ``in_channels``).
    """

    def __init__(self, predictor: str = 'byol', in_channels: int = 256, hid_channels: int = 4096,
                 out_channels: int = 256) -> None:
        super().__init__()
        if predictor not in _PREDICTORS:
            raise ValueError(f"predictor must be one of {sorted(_PREDICTORS)}, got {predictor!r}")
        self.predictor = _PREDICTORS[predictor](in_channels, hid_channels, out_channels)
        self.criterion = NegativeCosineSimilarity()

    def loss(self, online: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``-cos(predictor(online), target)`` averaged over the batch; ``target`` gets no gradient."""
        prediction = self.predictor(online)
        return self.criterion(prediction.float(), target.detach().float())
