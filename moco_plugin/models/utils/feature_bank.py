"""A memory bank: one feature per training image, updated with momentum (InstDisc)."""
from __future__ import annotations

from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn


class FeatureBank(nn.Module):
    """One L2-normalised feature per training image, the dictionary of the memory-bank
    mechanism (`InstDisc <https://arxiv.org/abs/1805.01978>`_; MoCo paper Fig. 2b).

    After each step the entry ``i`` of every image of the batch moves toward its new
    feature ``q``: ``bank[i] = normalize(m * bank[i] + (1 - m) * q)`` with ``m = momentum``
    (0.5 in InstDisc). As in :class:`FeatureQueue`, the algorithm only *stages* the
    features; ``QueueHook`` writes them after the optimizer step (gathered from every
    rank). The bank is a buffer, so it is saved in checkpoints.

    Args:
        size: Number of entries: the number of training images.
        dim: Feature dimension.
        momentum: ``m`` of the update.
        init_seed: Seed of the random initial entries (the same on every rank).
    """

    def __init__(self, size: int, dim: int, momentum: float = 0.5, init_seed: int = 0) -> None:
        super().__init__()
        if size <= 1 or dim <= 0:
            raise ValueError(f'FeatureBank needs size > 1 and dim > 0, got size={size}, dim={dim}')
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'FeatureBank momentum must be in [0, 1), got {momentum}')
        self.size, self.dim, self.momentum = size, dim, momentum
        generator = torch.Generator().manual_seed(init_seed)
        self.register_buffer('features', F.normalize(torch.randn(size, dim, generator=generator), dim=1))
        # True once every entry was written with an encoder's feature (see fill); saved, so a
        # resumed run does not fill the bank again
        self.register_buffer('filled', torch.zeros((), dtype=torch.bool))
        self._staged: List[Tuple[torch.Tensor, torch.Tensor]] = []

    def check_indices(self, indices: torch.Tensor) -> None:
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= self.size):
            raise ValueError(f'image index {int(indices.max())} is outside the memory bank of '
                             f'{self.size} entries; set model.bank_size to the number of '
                             'training images')

    def sample_negatives(self, indices: torch.Tensor, num: int) -> torch.Tensor:
        """``(N, num, dim)`` entries drawn uniformly for each image, never its own entry.

        Drawing from ``size - 1`` values and shifting those at or above the image's own
        index up by one excludes exactly that entry with no rejection loop.
        """
        self.check_indices(indices)
        draws = torch.randint(0, self.size - 1, (indices.numel(), num), device=indices.device)
        draws = draws + (draws >= indices.view(-1, 1)).long()
        return self.features[draws]

    def stage(self, indices: torch.Tensor, features: torch.Tensor) -> None:
        """Remember this step's features of the images ``indices``; :meth:`flush` writes them."""
        if self._staged:
            raise RuntimeError('FeatureBank: features of an earlier step were never written; '
                               "add dict(type='QueueHook') to custom_hooks")
        self.check_indices(indices)
        self._staged.append((indices.detach(), features.detach()))

    @torch.no_grad()
    def flush(self) -> int:
        """Move the staged images' entries toward their new features. Returns how many."""
        if not self._staged:
            return 0
        indices, features = self._gathered(*self._staged.pop())
        mixed = self.momentum * self.features[indices] + (1 - self.momentum) * features.to(self.features.dtype)
        self.features.index_copy_(0, indices, F.normalize(mixed, dim=1))
        return indices.numel()

    @torch.no_grad()
    def fill(self, indices: torch.Tensor, features: torch.Tensor) -> int:
        """Overwrite the entries ``indices`` with ``features`` (normalised, no momentum), the
        same on every rank (gathered). Returns how many entries were written."""
        self.check_indices(indices)
        indices, features = self._gathered(indices, features)
        self.features.index_copy_(0, indices, F.normalize(features.to(self.features.dtype), dim=1))
        return indices.numel()

    @staticmethod
    def _gathered(indices: torch.Tensor, features: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Every rank's ``indices`` and ``features``, in rank order (as given on one process)."""
        if dist.get_world_size() > 1:
            indices = torch.cat(dist.all_gather(indices.contiguous()))
            features = torch.cat(dist.all_gather(features.contiguous()))
        return indices, features
