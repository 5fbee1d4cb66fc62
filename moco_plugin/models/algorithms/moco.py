"""MoCo v1 / v2: Momentum Contrast for unsupervised visual representation learning."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn

from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.models.utils import (FeatureQueue, convert_split_bn, shuffle_batch,
                                      unshuffle_batch)
from moco_plugin.registry import MODELS


@MODELS.register_module()
class MoCo(BaseSelfSupervisor):
    """Momentum Contrast, `v1 <https://arxiv.org/abs/1911.05722>`_ and
    `v2 <https://arxiv.org/abs/2003.04297>`_ (v1 vs v2 is a matter of config:
    neck, temperature and augmentation).

    The pieces, each in its own place:

    * query encoder: ``backbone`` + ``neck``;
    * key encoder: ``key_backbone`` + ``key_neck``, a frozen copy updated as an
      exponential moving average by ``MomentumUpdateHook`` (listed in
      :meth:`momentum_pairs`);
    * dictionary: ``queue`` (:class:`FeatureQueue`), written by ``QueueHook``;
    * loss: ``head`` (:class:`InfoNCEHead`).

    Shuffle-BN: with several processes the key batch is shuffled across ranks
    before the key encoder (``shuffle_batch``). On one process, set
    ``bn_splits > 1`` to emulate per-GPU BN with :class:`SplitBatchNorm2d`
    (as the authors' CIFAR-10 demo does) and the in-batch shuffle then mixes
    the sub-batches of the key encoder.

    Args:
        backbone: Backbone config.
        neck: Projection neck config (``LinearNeck`` for v1, ``MoCoV2Neck`` for v2).
        head: Loss head config (``InfoNCEHead``).
        queue_len: Number of negative keys ``K``.
        feat_dim: Embedding dimension (the neck's output).
        bn_splits: Sub-batches for split-BN; 1 disables it.
        shuffle_bn: Shuffle the key batch before the key encoder.
        symmetric: Use the symmetric loss ``ctr(q1, k2) + ctr(q2, k1)`` of the
            CIFAR-10 demo; both key batches are enqueued.
        momentum: EMA momentum ``m`` of the key encoder (default 0.999, the paper's;
            the authors' CIFAR-10 demo uses 0.99). ``m = 0`` copies the query encoder
            every step, ``m = 1`` never moves the key encoder. Applied by
            ``MomentumUpdateHook``.
        end_momentum: Final momentum of the ``'cosine'`` schedule.
        momentum_schedule: ``'constant'`` (MoCo) or ``'cosine'``.
        mask_own_negatives: Drop the queue entries that are an older key of the query's
            own image from its negatives (not in the paper, where K is a small share of
            ImageNet; on a small dataset with a large K the queue holds many of them).
        queue_init: ``'random'`` (the paper's random initial keys, negatives until
            overwritten) or ``'empty'`` (unwritten slots are masked out, the first steps
            contrast against fewer negatives). Every step logs
            ``queue/own_image_share`` (share of queries with their own image in the queue)
            and ``queue/initial_fill_share`` (share of slots not written yet).
        data_preprocessor: Data preprocessor config.
        init_cfg: Weight-initialisation config.
    """

    # The paper's EMA: a constant m = 0.999 (Sec. 3.2). The one source of MoCo's default;
    # MomentumUpdateHook reads model.momentum_settings().
    DEFAULT_MOMENTUM = dict(momentum=0.999, end_momentum=1.0, schedule='constant')

    def __init__(self, backbone: dict, neck: dict, head: dict, queue_len: int = 65536,
                 feat_dim: int = 128, bn_splits: int = 1, shuffle_bn: bool = True,
                 symmetric: bool = False, momentum: Optional[float] = None,
                 end_momentum: Optional[float] = None, momentum_schedule: Optional[str] = None,
                 mask_own_negatives: bool = False, queue_init: str = 'random',
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        for name, value, example in (('queue_len', queue_len, 4096), ('feat_dim', feat_dim, 128),
                                     ('bn_splits', bn_splits, 8)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f'model.{name} must be an integer, got {value!r} '
                                f'({type(value).__name__}); e.g. --cfg-options '
                                f'model.{name}={example}')
        super().__init__(backbone, neck, head, data_preprocessor, init_cfg)
        self.set_momentum(momentum, end_momentum, momentum_schedule)
        convert_split_bn(self.backbone, bn_splits)
        self.bn_splits = bn_splits
        self.shuffle_bn = shuffle_bn
        self.symmetric = symmetric
        self.key_backbone = self.momentum_copy(self.backbone)
        self.key_neck = self.momentum_copy(self.neck)
        self.mask_own_negatives = bool(mask_own_negatives)
        self.queue = FeatureQueue(queue_len, feat_dim, keys_per_sample=2 if symmetric else 1,
                                  init=queue_init)

    def momentum_pairs(self) -> Sequence[Tuple[nn.Module, nn.Module]]:
        return [(self.backbone, self.key_backbone), (self.neck, self.key_neck)]

    def encode_query(self, images: torch.Tensor) -> torch.Tensor:
        # normalised in float32: see InfoNCEHead on bf16 rounding
        return F.normalize(self.neck(self.backbone(images)).float(), dim=1)

    @torch.no_grad()
    def encode_key(self, images: torch.Tensor) -> torch.Tensor:
        shuffle = self.shuffle_bn and (self.bn_splits > 1 or dist.get_world_size() > 1)
        if shuffle:
            images, unshuffle = shuffle_batch(images)
        keys = F.normalize(self.key_neck(self.key_backbone(images)).float(), dim=1)
        return unshuffle_batch(keys, unshuffle) if shuffle else keys

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict] = None
             ) -> Dict[str, torch.Tensor]:
        """Contrast each query with its key and the queue; stage the keys for enqueueing.

        One training step, top to bottom (``N`` images per rank, ``C = feat_dim``,
        ``K = queue_len``; cf. FAIR's ``moco/builder.py``)::

            view_1, view_2 = inputs                   # N x 3 x H x W each, two augmentations
            q = encode_query(view_1)                  # N x C, L2-normalised, with gradient
            k = encode_key(view_2)                    # N x C, L2-normalised, no gradient;
                                                      #   Shuffle-BN inside (across ranks or
                                                      #   split-BN sub-batches), then unshuffled
            queue = self.queue.features               # K x C, keys of earlier steps
            logits = [q . k, q @ queue.T] / T         # N x (1 + K), positive in column 0
                                                      #   (InfoNCEHead.logits)
            logits[:, 1:][mask] = -inf                # N x K, only with mask_own_negatives
                                                      #   (own image) or queue_init='empty'
            loss = cross_entropy(logits, zeros(N))    # InfoNCEHead.loss
            # symmetric=True adds ctr(q(view_2), k(view_1)), stages k(view_1) too
            self.queue.stage(k, idx)                  # kept aside, NOT in the queue yet;
                                                      #   idx: N dataset indices of the images

        Then, after this method returns (MMEngine's ``BaseModel.train_step`` and the hooks):

        1. ``optim_wrapper.update_params(loss)``: backward and the optimizer step
           move the query encoder (``backbone``, ``neck``) only; the key encoder
           has no gradient.
        2. ``MomentumUpdateHook.after_train_iter``: the EMA
           ``key = m * key + (1 - m) * query`` for each pair of
           :meth:`momentum_pairs` (``m`` from ``momentum_at``; FAIR does it at the
           start of the next forward: the same values).
        3. ``QueueHook.after_train_iter``: ``FeatureQueue.flush`` gathers the staged
           keys of all ranks (``world_size * N x C``) and writes them over the
           oldest entries (``FeatureQueue.enqueue``). Written after the step, a
           batch's keys are never its own negatives and the ``K x C`` tensor the
           loss read is unchanged until backward has used it.

        Steps 2 and 3 touch different state, so their order does not matter.
        """
        self._check_views(inputs, 2, 'MoCo')
        view_1, view_2 = inputs[0], inputs[1]
        needed_by = 'model.mask_own_negatives' if self.mask_own_negatives else None
        image_indices = self.image_indices(data_samples, view_1.device, needed_by,
                                           fix=', or set model.mask_own_negatives=False')
        negatives = self.queue.features
        mask = self.queue.negative_mask(image_indices, self.mask_own_negatives)
        query_1 = self.encode_query(view_1)
        key_2 = self.encode_key(view_2)
        loss = self.head.loss(query_1, key_2, negatives, mask)
        if self.symmetric:
            query_2 = self.encode_query(view_2)
            key_1 = self.encode_key(view_1)
            loss = loss + self.head.loss(query_2, key_1, negatives, mask)
            self.queue.stage(key_1, image_indices)
        self.queue.stage(key_2, image_indices)
        out = dict(loss=loss)
        out['queue/initial_fill_share'] = self.queue.initial_fill_share()
        if image_indices is not None:  # before this step's keys are written
            out['queue/own_image_share'] = self.queue.own_image_share(image_indices)
        return out
