"""Shuffle-BN: permute the key batch so BN statistics cannot leak the positive."""
from __future__ import annotations

from typing import Tuple

import torch
from mmengine import dist


@torch.no_grad()
def shuffle_batch(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Shuffle ``x`` across all ranks (or within the batch on one process).

    With several processes this is MoCo's ``_batch_shuffle_ddp``: gather every
    rank's batch, draw one permutation on rank 0, broadcast it, and give each
    rank its slice, so each GPU's BN sees a random mix of other ranks' images.

    Returns:
        The local shuffled batch and the index that :func:`unshuffle_batch` needs.
    """
    world_size = dist.get_world_size()
    if world_size == 1:
        perm = torch.randperm(x.shape[0], device=x.device)
        return x[perm], torch.argsort(perm)
    local = x.shape[0]
    gathered = torch.cat(dist.all_gather(x.contiguous()))
    perm = torch.randperm(gathered.shape[0], device=x.device)
    dist.broadcast(perm, src=0)
    unshuffle = torch.argsort(perm)
    rank = dist.get_rank()
    return gathered[perm.view(world_size, local)[rank]], unshuffle


@torch.no_grad()
def unshuffle_batch(x: torch.Tensor, unshuffle: torch.Tensor) -> torch.Tensor:
    """Undo :func:`shuffle_batch` on the encoder's outputs."""
    world_size = dist.get_world_size()
    if world_size == 1:
        return x[unshuffle]
    local = x.shape[0]
    gathered = torch.cat(dist.all_gather(x.contiguous()))
    return gathered[unshuffle.view(world_size, local)[dist.get_rank()]]
