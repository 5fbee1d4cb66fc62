"""The queue of negative keys (MoCo's dictionary)."""
from __future__ import annotations

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
    """

    def __init__(self, size: int, dim: int, keys_per_sample: int = 1, init_seed: int = 0) -> None:
        super().__init__()
        if size <= 0 or dim <= 0:
            raise ValueError(f'FeatureQueue needs size > 0 and dim > 0, got size={size}, dim={dim}')
        self.size = size
        self.dim = dim
        self.keys_per_sample = keys_per_sample
        generator = torch.Generator().manual_seed(init_seed)
        self.register_buffer('features', F.normalize(torch.randn(size, dim, generator=generator), dim=1))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self._staged: list[torch.Tensor] = []

    def stage(self, keys: torch.Tensor) -> None:
        """Remember this step's keys; they are enqueued by :meth:`flush`.

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

    @torch.no_grad()
    def flush(self) -> int:
        """Enqueue the staged keys of every rank, in rank order. Returns how many."""
        if not self._staged:
            return 0
        keys = torch.cat(self._staged)
        self._staged.clear()
        if dist.get_world_size() > 1:
            keys = torch.cat(dist.all_gather(keys.contiguous()))
        self.enqueue(keys)
        return keys.shape[0]

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
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
        keys = keys[-self.size:].to(self.features.dtype)
        n = keys.shape[0]
        index = (self.ptr + torch.arange(n, device=keys.device)) % self.size
        self.features.index_copy_(0, index, keys)
        self.ptr.copy_((self.ptr + n) % self.size)
