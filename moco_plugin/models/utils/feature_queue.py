"""The queue of negative keys (MoCo's dictionary)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn


class FeatureQueue(nn.Module):
    """A first-in-first-out queue of L2-normalised feature vectors.

    The queue is MoCo's dictionary of negatives (`MoCo
    <https://arxiv.org/abs/1911.05722>`_, Sec. 3.2). Its contents and write
    pointer are registered buffers, so they are saved in and restored from
    checkpoints with the rest of the model.

    Keys computed in a training step are only *staged* by the algorithm; they
    are written by :meth:`flush`, which :class:`~moco_plugin.engine.hooks.QueueHook`
    calls after the optimizer step. Writing after the step keeps a batch's own
    keys out of its negatives and leaves the tensor read by the loss untouched
    until backward has run (so no defensive copy is needed).

    Args:
        size: Number of keys held (``K``).
        dim: Feature dimension.
        keys_per_sample: How many keys one training image stages per step
            (2 with a symmetric loss); used to check that ``size`` is a
            multiple of the keys enqueued per step.
        init_seed: Seed of the random initial contents. A fixed generator
            (not the global RNG) makes the initial queue identical on every
            rank, whatever each rank's RNG state.
        init: ``'random'`` (the official MoCo: random unit vectors, which act as
            negatives until overwritten) or ``'empty'`` (zeros; the unwritten slots
            are to be masked out of the negatives, see :meth:`negative_mask`).

    Each entry also carries the dataset index of the image its key came from
    (``indices``; ``NO_IMAGE`` for the initial fill, ``UNKNOWN_IMAGE`` for keys staged
    without indices), so that a query's own image can be found among its negatives.
    """

    NO_IMAGE = -1       # initial fill (random or empty): not written by a training step yet
    UNKNOWN_IMAGE = -2  # written by a step that gave no image indices

    def __init__(self, size: int, dim: int, keys_per_sample: int = 1, init_seed: int = 0,
                 init: str = 'random') -> None:
        super().__init__()
        if size <= 0 or dim <= 0:
            raise ValueError(f'FeatureQueue needs size > 0 and dim > 0, got size={size}, dim={dim}')
        if init not in ('random', 'empty'):
            raise ValueError(f"queue init must be 'random' or 'empty', got {init!r}")
        self.size = size
        self.dim = dim
        self.keys_per_sample = keys_per_sample
        self.init = init
        generator = torch.Generator().manual_seed(init_seed)
        fill = torch.randn(size, dim, generator=generator)  # drawn either way: same RNG use
        self.register_buffer('features', F.normalize(fill, dim=1) if init == 'random'
                             else torch.zeros(size, dim))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('indices', torch.full((size,), self.NO_IMAGE, dtype=torch.long))
        self._staged: list[torch.Tensor] = []
        self._staged_indices: list[torch.Tensor] = []

    def initial_fill_share(self) -> torch.Tensor:
        """Share of the ``K`` slots still holding the initial fill (1.0 before the first flush)."""
        return (self.indices == self.NO_IMAGE).float().mean()

    def negative_mask(self, image_indices: Optional[torch.Tensor], mask_own: bool) -> Optional[torch.Tensor]:
        """``N x K`` (or ``1 x K``) mask of the negatives to drop (``True``), or ``None``.

        Drops the unwritten slots of an ``'empty'`` queue and, with ``mask_own``, the
        slots holding an older key of the query's own image (``image_indices``: ``N``).

        Example:
            >>> queue = FeatureQueue(size=4, dim=2, init='empty')
            >>> queue.enqueue(torch.eye(2), indices=torch.tensor([7, 3]))  # slots 0, 1
            >>> queue.negative_mask(torch.tensor([3, 5]), mask_own=True).tolist()
            [[False, True, True, True], [False, False, True, True]]
        """
        mask = None
        if self.init == 'empty':
            mask = (self.indices == self.NO_IMAGE).unsqueeze(0)                    # 1 x K
        if mask_own and image_indices is not None:
            own = self.indices.unsqueeze(0) == image_indices.view(-1, 1).to(self.indices)  # N x K
            mask = own if mask is None else own | mask
        return mask  # 1 x K (empty slots only) broadcasts over the queries

    def own_image_share(self, image_indices: torch.Tensor) -> torch.Tensor:
        """Share of the ``N`` queries with an older key of their own image in the queue."""
        own = self.indices.unsqueeze(0) == image_indices.view(-1, 1).to(self.indices)
        return own.any(dim=1).float().mean()

    def stage(self, keys: torch.Tensor, indices: Optional[torch.Tensor] = None) -> None:
        """Remember this step's keys (and their images' dataset ``indices``) for :meth:`flush`.

        Raises:
            RuntimeError: The keys of an earlier step are still staged (nothing
                flushes the queue), instead of letting them pile up unboundedly.
        """
        if len(self._staged) >= self.keys_per_sample:
            raise RuntimeError(
                f'FeatureQueue: {len(self._staged)} staged key batch(es) of an earlier step were '
                "never enqueued; add dict(type='QueueHook') to custom_hooks (or call flush() "
                'after each step)')
        self._staged.append(keys.detach())
        self._staged_indices.append(self._image_indices(keys, indices))

    def _image_indices(self, keys: torch.Tensor, indices: Optional[torch.Tensor]) -> torch.Tensor:
        if indices is None:
            return torch.full((keys.shape[0],), self.UNKNOWN_IMAGE, dtype=torch.long,
                              device=keys.device)
        indices = torch.as_tensor(indices, device=keys.device).long().view(-1)
        if indices.numel() != keys.shape[0]:
            raise ValueError(f'{keys.shape[0]} keys but {indices.numel()} image indices')
        return indices

    @torch.no_grad()
    def flush(self) -> int:
        """Enqueue the staged keys of every rank, in rank order. Returns how many."""
        if not self._staged:
            return 0
        keys, indices = torch.cat(self._staged), torch.cat(self._staged_indices)
        self._staged.clear()
        self._staged_indices.clear()
        if dist.get_world_size() > 1:
            keys = torch.cat(dist.all_gather(keys.contiguous()))
            indices = torch.cat(dist.all_gather(indices.contiguous()))
        self.enqueue(keys, indices)
        return keys.shape[0]

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, indices: Optional[torch.Tensor] = None) -> None:
        """Overwrite the oldest entries with ``keys``, wrapping around the end.

        Example:
            >>> queue = FeatureQueue(size=4, dim=2)
            >>> queue.enqueue(torch.tensor([[1., 0.], [0., 1.], [1., 1.]]))
            >>> int(queue.ptr)
            3
            >>> queue.enqueue(torch.tensor([[2., 0.], [0., 2.]]))  # wraps: rows 3, then 0
            >>> queue.features.tolist(), int(queue.ptr)
            ([[0.0, 2.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]], 1)

        ``enqueue`` stores the keys as given (the algorithm normalises them); a
        training step only :meth:`stage` s keys, :meth:`flush` calls ``enqueue``.
        """
        if keys.ndim != 2 or keys.shape[1] != self.dim:
            raise ValueError(f'keys must have shape (N, {self.dim}), got {tuple(keys.shape)}')
        indices = self._image_indices(keys, indices)[-self.size:]
        keys = keys[-self.size:].to(self.features.dtype)
        n = keys.shape[0]
        index = (self.ptr + torch.arange(n, device=keys.device)) % self.size
        self.features.index_copy_(0, index, keys)
        self.indices.index_copy_(0, index, indices.to(self.indices.device))
        self.ptr.copy_((self.ptr + n) % self.size)
