"""The memory-bank mechanism of contrastive learning (InstDisc), as compared in MoCo's Fig. 3."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import torch
import torch.nn.functional as F

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.models.utils import FeatureBank
from moco_plugin.registry import MODELS


@MODELS.register_module()
class MemoryBankContrast(BaseSelfSupervisor):
    """Contrast each image with its own memory and ``K`` random memories of other images.

    `InstDisc <https://arxiv.org/abs/1805.01978>`_ keeps one feature per training image
    (:class:`FeatureBank`); MoCo (`arXiv 1911.05722 <https://arxiv.org/abs/1911.05722>`_,
    Sec. 3.2 and Fig. 2b) compares it with MoCo under the same InfoNCE loss: the query is
    the encoder's feature of one augmented view, the positive key is the bank entry of the
    same image, the negatives are ``K`` entries of other images drawn uniformly, and
    after the step the image's entry moves toward the query with momentum 0.5. The keys
    are therefore features of many past encoders: the inconsistency MoCo's slowly moving
    key encoder removes.

    Args:
        backbone: Backbone config.
        neck: Projection neck config.
        head: ``InfoNCEHead`` config.
        bank_size: Entries of the bank: the number of training images (``QueueHook``
            checks it against the training set).
        feat_dim: Embedding dimension (the neck's output).
        num_negatives: ``K`` entries drawn per query.
        bank_momentum: Momentum of the bank update (0.5 in InstDisc).
        bank_init: ``'random'`` (InstDisc: random unit vectors; in a short run most
            positives are still noise) or ``'encoder'`` (``QueueHook`` fills every entry
            with the initial encoder's feature of the image before the first step,
            :meth:`fill_bank`: the bank mechanism compared on equal terms with MoCo,
            whose keys are encoder features from the first step).
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    def __init__(self, backbone: dict, neck: dict, head: dict, bank_size: int,
                 feat_dim: int = 128, num_negatives: int = 4096, bank_momentum: float = 0.5,
                 bank_init: str = 'random', data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        if num_negatives < 1:
            raise ValueError(f'num_negatives must be >= 1, got {num_negatives}')
        if bank_init not in ('random', 'encoder'):
            raise ValueError(f"model.bank_init must be 'random' or 'encoder', got {bank_init!r}")
        self.num_negatives = num_negatives
        self.bank_init = bank_init
        self.bank = FeatureBank(bank_size, feat_dim, bank_momentum)

    def bank_needs_filling(self) -> bool:
        """``bank_init='encoder'`` and the bank not filled yet (a resumed run was)."""
        return self.bank_init == 'encoder' and not bool(self.bank.filled)

    @torch.no_grad()
    def fill_bank(self, loader: Iterable) -> int:
        """Write each image's entry with the current encoder's feature of its first view.

        One pass over ``loader`` (the training loader: its augmentation, the encoder in
        training mode as in a step); BN running statistics are restored afterwards, so the
        pass changes nothing but the bank. Returns the number of entries written.
        """
        kept = {name: buf.clone() for name, buf in self.named_buffers()
                if not name.startswith('bank.')}
        written = 0
        for data in loader:
            data = self.data_preprocessor(data, True)
            views, samples = data['inputs'], data['data_samples']
            view = views[0] if isinstance(views, (list, tuple)) else views
            indices = self.image_indices(samples, view.device, 'MemoryBankContrast')
            written += self.bank.fill(indices, F.normalize(self.neck(self.backbone(view)).float(), dim=1))
        for name, buf in self.named_buffers():
            if name in kept:
                buf.copy_(kept[name])
        self.bank.filled.fill_(True)
        return written

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        """InfoNCE of the query against its bank entry and ``K`` other entries; stage the query."""
        indices = self.image_indices(data_samples, inputs[0].device, 'MemoryBankContrast')
        query = F.normalize(self.neck(self.backbone(inputs[0])).float(), dim=1)
        positive = self.bank.features[indices]
        negatives = self.bank.sample_negatives(indices, self.num_negatives)
        loss = self.head.loss(query, positive, negatives)
        self.bank.stage(indices, query)
        return dict(loss=loss)
