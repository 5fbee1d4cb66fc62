"""Weighted k-NN classification with torch on any device (exact search: matmul + top-k)."""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F

from moco_plugin.evaluation.knn import DEFAULT_MEMORY_BYTES, check_knn_inputs

Array = Union[np.ndarray, torch.Tensor]


def resolve_knn_backend(backend: str, device: Union[str, torch.device]) -> str:
    """``'auto'`` -> ``'torch'`` when the model is on a GPU (no copy to the host, no faiss),
    ``'faiss'`` otherwise; ``'faiss'`` and ``'torch'`` are returned as given."""
    if backend not in ('auto', 'faiss', 'torch'):
        raise ValueError(f"k-NN backend must be 'auto', 'faiss' or 'torch', got {backend!r}")
    if backend != 'auto':
        return backend
    return 'torch' if torch.device(device).type == 'cuda' else 'faiss'


@torch.no_grad()
def knn_classify_torch(bank_features: Array, bank_labels: Array, query_features: Array,
                       query_labels: Array, ks: Iterable[int] = (200,), temperature: float = 0.1,
                       num_classes: Optional[int] = None, query_chunk: Optional[int] = None,
                       memory_bytes: int = DEFAULT_MEMORY_BYTES,
                       device: Optional[Union[str, torch.device]] = None
                       ) -> Dict[int, Dict[str, float]]:
    """:func:`moco_plugin.evaluation.knn_classify` computed with torch on ``device``.

    Same inputs, outputs and rules (L2-normalised features, cosine similarity,
    neighbours found once for the largest ``k``, vote weights
    ``exp((s - max s) / T)`` summed in float64, ties between classes to the
    lowest index, ``k`` capped at the bank size); the neighbour search is one
    matrix product and ``topk`` per chunk of queries, on the GPU when
    ``device`` is one. The tests check it against the faiss version.

    Args:
        device: Where to compute (default: the device of ``bank_features`` if it
            is a tensor, else the CPU).
    """
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f'k values must be >= 1, got {ks}')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if device is None:
        device = bank_features.device if isinstance(bank_features, torch.Tensor) else 'cpu'

    def tensor(values, dtype):
        return torch.as_tensor(np.asarray(values) if not isinstance(values, torch.Tensor)
                               else values).to(device=device, dtype=dtype)

    bank = F.normalize(tensor(bank_features, torch.float32), dim=1, eps=1e-12)
    queries = F.normalize(tensor(query_features, torch.float32), dim=1, eps=1e-12)
    bank_labels = tensor(bank_labels, torch.int64).reshape(-1)
    query_labels = tensor(query_labels, torch.int64).reshape(-1)
    check_knn_inputs(bank, queries, bank_labels, query_labels)
    if num_classes is None:
        num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    k_max = min(ks[-1], len(bank))
    if query_chunk is None:
        query_chunk = max(1, min(4096, memory_bytes // (4 * len(bank))))
    top5 = min(5, num_classes)
    correct = {k: torch.zeros(2, dtype=torch.int64, device=device) for k in ks}
    for start in range(0, len(queries), query_chunk):
        similarities, neighbours = (queries[start:start + query_chunk] @ bank.T).topk(k_max, dim=1)
        neighbour_labels = bank_labels[neighbours]
        labels = query_labels[start:start + query_chunk]
        for k in ks:
            k_used = min(k, k_max)
            sims = similarities[:, :k_used].double()
            weights = torch.exp((sims - sims.max(dim=1, keepdim=True).values) / temperature)
            scores = torch.zeros(len(sims), num_classes, dtype=torch.float64, device=device)
            scores.scatter_add_(1, neighbour_labels[:, :k_used], weights)
            ranked = torch.sort(-scores, dim=1, stable=True).indices
            hits = ranked[:, :top5] == labels[:, None]
            correct[k] += torch.stack([hits[:, :1].any(dim=1).sum(), hits.any(dim=1).sum()])
    total = len(queries)
    out = {}
    for k in ks:
        top1, top5_hits = correct[k].tolist()
        out[k] = dict(top1=100.0 * top1 / total, top5=100.0 * top5_hits / total,
                      k_used=min(k, k_max))
    return out
