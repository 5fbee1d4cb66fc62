"""SHA-256 of files and of state dicts: the identities of checkpoints and weights."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping, Union

import torch
from torch import nn

CHUNK_BYTES = 1 << 20


def sha256_of_file(path: Union[str, Path]) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (checkpoints are hundreds of MB).

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as f:
        ...     _ = f.write(b'abc')
        >>> sha256_of_file(f.name)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b''):
            digest.update(block)
    return digest.hexdigest()


def sha256_of_state_dict(weights: Union[nn.Module, Mapping[str, torch.Tensor]]) -> str:
    """Hex SHA-256 of a state dict (names, dtypes, shapes and values).

    Used as the weight identity in feature-cache keys and benchmark results:
    it is the same for a checkpoint whichever way it was obtained (path,
    ``zoo://``, random init under a seed, a release copy without the optimizer)
    and changes whenever a single weight or BN statistic does.

    Args:
        weights: A module (its ``state_dict()`` is hashed) or a state dict.
    """
    state = weights.state_dict() if isinstance(weights, nn.Module) else weights
    digest = hashlib.sha256()
    for name, value in sorted(state.items()):
        flat = value.detach().cpu().contiguous().reshape(-1)  # 0-d BN counters included
        digest.update(f'{name}|{value.dtype}|{tuple(value.shape)}|'.encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b'')
    return digest.hexdigest()
