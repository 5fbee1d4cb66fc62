"""Diversity by k-means on embeddings (faiss), for choosing images to label.

Built for pools of hundreds of thousands of images: one float32 copy of the embeddings
(normalised in place, in chunks), k-means *fitted on a seeded sample* and then used to
assign every point (one exact nearest-centroid search), and the distance of every point to
its centroid taken from that search (no ``N x D`` difference array).
"""
from __future__ import annotations

import time
from typing import Dict, Optional, Tuple

import faiss
import numpy as np

# k-means is fitted on at most max(FIT_POINTS, FIT_PER_CENTROID * k) points (a seeded sample)
# and then assigns all: at 512,000 x 512 and k = 12,800 a full 20-iteration fit would take
# about 50 minutes on one core; see benchmarks/results/few_labels/scale.md for what the sample costs.
FIT_POINTS = 131_072
FIT_PER_CENTROID = 10
NORMALIZE_CHUNK = 65_536
KMEANS_ITERATIONS = 20
# Timings of the last kmeans_assign call (fit and assignment), for benchmarks.
LAST_RUN: Dict[str, float] = {}


def prepare(embeddings: np.ndarray, normalize: bool = True,
            rows: Optional[np.ndarray] = None) -> np.ndarray:
    """A float32, C-contiguous copy of ``embeddings[rows]``, L2-normalised in place by default.

    Network features compare by direction (cosine), plain points by position.
    """
    # one copy: fancy indexing already makes one (np.array would make a second)
    x = np.array(embeddings, dtype=np.float32, order='C') if rows is None else \
        np.ascontiguousarray(embeddings[rows], dtype=np.float32)
    if normalize:
        for start in range(0, len(x), NORMALIZE_CHUNK):
            block = x[start:start + NORMALIZE_CHUNK]
            block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
    return x


def fit_size(n: int, k: int, fit_points: Optional[int] = None) -> int:
    """How many of ``n`` points the k-means fit uses (all of them when few)."""
    wanted = fit_points if fit_points is not None else max(FIT_POINTS, FIT_PER_CENTROID * k)
    return int(min(n, max(wanted, k)))


def kmeans_assign(x: np.ndarray, k: int, seed: int = 0, iterations: int = KMEANS_ITERATIONS,
                  fit_points: Optional[int] = None
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """faiss k-means of prepared points ``x``: ``(centroids, assignment, squared distance)``.

    Fitted on a seeded sample of :func:`fit_size` points, then every point is assigned to
    its nearest centroid; the squared distance is to that centroid.
    """
    if not 1 <= k <= len(x):
        raise ValueError(f'k-means needs 1 <= k <= {len(x)} points, got k={k}')
    n_fit = fit_size(len(x), k, fit_points)
    tick, cpu = time.perf_counter(), time.process_time()
    sample = x if n_fit == len(x) else x[np.sort(
        np.random.default_rng(seed).choice(len(x), n_fit, replace=False))]
    # The sample is chosen here; faiss must not subsample again (max_points_per_centroid)
    # nor warn about few points per centroid (min_points_per_centroid).
    model = faiss.Kmeans(x.shape[1], k, niter=iterations, seed=seed, verbose=False,
                         max_points_per_centroid=n_fit // k + 1, min_points_per_centroid=1)
    model.train(sample)
    del sample
    fitted, fit_cpu = time.perf_counter(), time.process_time() - cpu
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(model.centroids)
    squared, assignment = index.search(x, 1)
    LAST_RUN.clear()
    LAST_RUN.update(k=k, fit_points=n_fit, iterations=iterations, fit_s=fitted - tick,
                    fit_cpu_s=fit_cpu,
                    assign_s=time.perf_counter() - fitted)
    return (model.centroids, assignment.reshape(-1).astype(np.int64),
            np.maximum(squared.reshape(-1), 0))


def kmeans(embeddings: np.ndarray, k: int, seed: int = 0, iterations: int = KMEANS_ITERATIONS,
           normalize: bool = True, fit_points: Optional[int] = None
           ) -> Tuple[np.ndarray, np.ndarray]:
    """faiss k-means (on L2-normalised embeddings by default): ``(centroids, assignment)``."""
    centroids, assignment, _ = kmeans_assign(prepare(embeddings, normalize), k, seed,
                                             iterations, fit_points)
    return centroids, assignment


def diversity_picks(embeddings: np.ndarray, budget: int, candidates: np.ndarray, seed: int = 0,
                    normalize: bool = True, fit_points: Optional[int] = None,
                    iterations: int = KMEANS_ITERATIONS) -> Tuple[np.ndarray, np.ndarray]:
    """One candidate per k-means cluster (``budget`` clusters), the one nearest its centre.

    Args:
        embeddings: ``(N, D)`` features of the whole pool.
        budget: Clusters and picks.
        candidates: Distinct pool indices to choose from, in any order (the hybrid passes
            them in score order).

    Returns:
        ``(picks, cluster of each pick)``: ``budget`` distinct candidates, at most one per
        cluster, in cluster order; if a cluster stayed empty (repeated images), the rest are
        the candidates farthest from their centres, with cluster ``-1``.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if len(np.unique(candidates)) != len(candidates):
        raise ValueError('diversity_picks: the candidates repeat an index; pass each image once')
    if budget > len(candidates):
        raise ValueError(f'budget {budget} is larger than the {len(candidates)} candidates')
    x = prepare(embeddings, normalize, candidates)
    _, assignment, distance = kmeans_assign(x, budget, seed, iterations, fit_points)
    del x
    # Positions (into candidates) sorted by cluster, then distance, then position: the
    # first of each cluster is its nearest member.
    order = np.lexsort((np.arange(len(candidates)), distance, assignment))
    first = order[np.r_[True, assignment[order[1:]] != assignment[order[:-1]]]]
    clusters = assignment[first]
    if len(first) < budget:  # an empty cluster after all: fill with the farthest-out points
        rest = np.setdiff1d(np.arange(len(candidates)), first)
        far = rest[np.argsort(-distance[rest], kind='stable')][:budget - len(first)]
        first = np.concatenate([first, far])
        clusters = np.concatenate([clusters, np.full(len(far), -1, dtype=np.int64)])
    return candidates[first], clusters.astype(np.int64)
