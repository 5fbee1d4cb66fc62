"""Weighted k-nearest-neighbour classification on frozen features (faiss, exact search)."""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Sequence

import numpy as np
import torch

DEFAULT_MEMORY_BYTES = 256 * 2**20


def l2_normalize(features: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit L2 norm, as contiguous float32 (what faiss takes)."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return np.ascontiguousarray(features / np.maximum(norms, eps), dtype=np.float32)


def rank_classes(scores: np.ndarray) -> np.ndarray:
    """Class indices sorted by descending score; among equal scores the lowest index wins.

    Args:
        scores: ``(N, C)`` class scores.

    Returns:
        ``(N, C)`` class indices, best first.
    """
    # A stable sort of the negated scores keeps equal scores in index order.
    return np.argsort(-scores, axis=1, kind='stable')


def weighted_vote(similarities: np.ndarray, neighbour_labels: np.ndarray, num_classes: int,
                  temperature: float) -> np.ndarray:
    """Class scores ``sum_i exp(s_i / T)`` over each query's neighbours of that class.

    The weighting of `InstDisc <https://arxiv.org/abs/1805.01978>`_ and the
    MoCo CIFAR-10 demo's ``knn_predict``. Every query's weights are computed
    as ``exp((s_i - max_j s_j) / T)``: a per-query constant factor, which
    leaves that query's ranking unchanged but cannot overflow for small ``T``.

    Args:
        similarities: ``(N, k)`` cosine similarities of the neighbours.
        neighbour_labels: ``(N, k)`` their labels.
        num_classes: Number of classes ``C``.
        temperature: ``T``.

    Returns:
        ``(N, C)`` float64 scores; classes with no neighbour score 0.
    """
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    sims = similarities.astype(np.float64)
    weights = np.exp((sims - sims.max(axis=1, keepdims=True)) / temperature)
    scores = np.zeros((sims.shape[0], num_classes), dtype=np.float64)
    rows = np.repeat(np.arange(sims.shape[0]), sims.shape[1])
    np.add.at(scores, (rows, neighbour_labels.reshape(-1)), weights.reshape(-1))
    return scores


def topk_correct(ranked: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Boolean ``(N,)``: the true label is among the first ``k`` ranked classes."""
    return (ranked[:, :k] == labels[:, None]).any(axis=1)


def knn_classify(bank_features: np.ndarray, bank_labels: np.ndarray, query_features: np.ndarray,
                 query_labels: np.ndarray, ks: Iterable[int] = (200,), temperature: float = 0.1,
                 num_classes: Optional[int] = None, query_chunk: Optional[int] = None,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES) -> Dict[int, Dict[str, float]]:
    """Weighted k-NN accuracy of the queries against a labelled bank, for several ``k`` at once.

    Features are L2-normalised and searched exactly with ``faiss.IndexFlatIP``
    (inner product = cosine similarity). The neighbours are found once for the
    largest ``k`` and every smaller ``k`` uses a prefix of them. Queries are
    searched in chunks so that the similarity block (``chunk x bank``) stays
    within ``memory_bytes``; any number of queries works, one included, and
    ``k`` larger than the bank is capped at the bank size.

    Top-1 / top-5 come from :func:`rank_classes` of the :func:`weighted_vote`
    scores: ties go to the lowest class index, and classes without a
    neighbour (score 0) rank after all voted classes, lowest index first.

    Args:
        bank_features: ``(M, C)`` training ("memory bank") features.
        bank_labels: ``(M,)`` their integer labels.
        query_features: ``(N, C)`` test features.
        query_labels: ``(N,)`` their labels.
        ks: Neighbour counts to evaluate (InstDisc / MoCo demo: 200).
        temperature: Vote temperature ``T`` (0.1 in the MoCo demo).
        num_classes: ``C``; by default ``max label + 1`` over bank and queries.
        query_chunk: Queries per search; by default from ``memory_bytes``.
        memory_bytes: Bound on the ``chunk x bank`` float32 similarity block.

    Returns:
        ``{k: dict(top1=%, top5=%, k_used=min(k, M))}`` with accuracies in percent.
    """
    import faiss

    faiss.omp_set_num_threads(torch.get_num_threads())  # the threads the tool chose, not all cores
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f'k values must be >= 1, got {ks}')
    bank = l2_normalize(bank_features)
    queries = l2_normalize(query_features)
    bank_labels = np.asarray(bank_labels, dtype=np.int64).reshape(-1)
    query_labels = np.asarray(query_labels, dtype=np.int64).reshape(-1)
    check_knn_inputs(bank, queries, bank_labels, query_labels)
    if num_classes is None:
        num_classes = int(max(bank_labels.max(), query_labels.max() if len(query_labels) else 0)) + 1
    k_max = min(ks[-1], len(bank))
    if query_chunk is None:
        query_chunk = max(1, min(4096, memory_bytes // (4 * len(bank))))

    index = faiss.IndexFlatIP(bank.shape[1])
    index.add(bank)
    correct = {k: np.zeros(2, dtype=np.int64) for k in ks}
    for start in range(0, len(queries), query_chunk):
        stop = start + query_chunk
        similarities, neighbours = index.search(queries[start:stop], k_max)
        neighbour_labels = bank_labels[neighbours]
        labels = query_labels[start:stop]
        for k in ks:
            k_used = min(k, k_max)
            scores = weighted_vote(similarities[:, :k_used], neighbour_labels[:, :k_used],
                                   num_classes, temperature)
            ranked = rank_classes(scores)
            correct[k] += [topk_correct(ranked, labels, 1).sum(),
                           topk_correct(ranked, labels, min(5, num_classes)).sum()]
    total = len(queries)
    return {k: dict(top1=100.0 * correct[k][0] / total, top5=100.0 * correct[k][1] / total,
                    k_used=min(k, k_max)) for k in ks}


def check_knn_inputs(bank, queries, bank_labels, query_labels) -> None:
    """One-line errors for k-NN inputs (numpy arrays or tensors): 2-D features of one size,
    a non-empty bank, one label per row, at least one query, no negative (unlabelled) label."""
    if bank.ndim != 2 or queries.ndim != 2 or bank.shape[1] != queries.shape[1]:
        raise ValueError(f'bank features {tuple(bank.shape)} and query features '
                         f'{tuple(queries.shape)} must be 2-D with the same feature size')
    if len(bank) == 0 or len(bank) != len(bank_labels) or len(queries) != len(query_labels):
        raise ValueError(f'need a non-empty bank with one label per row: bank {bank.shape[0]} rows / '
                         f'{len(bank_labels)} labels, queries {queries.shape[0]} rows / '
                         f'{len(query_labels)} labels')
    if len(queries) == 0:
        raise ValueError('k-NN needs at least one query (test) feature')
    if bool((bank_labels < 0).any()) or bool((query_labels < 0).any()):
        raise ValueError('k-NN needs labelled data: some labels are negative (unlabelled images)')


def nearest_neighbours(bank_features: np.ndarray, query_features: np.ndarray, k: int
                       ) -> Sequence[np.ndarray]:
    """Exact cosine top-``k`` neighbours: ``(similarities, indices)``, each ``(N, min(k, M))``."""
    import faiss
    faiss.omp_set_num_threads(torch.get_num_threads())
    bank = l2_normalize(bank_features)
    index = faiss.IndexFlatIP(bank.shape[1])
    index.add(bank)
    return index.search(l2_normalize(query_features), min(k, len(bank)))
