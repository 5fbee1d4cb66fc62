"""Diversity by k-means and typicality (TypiClust) on embeddings, for choosing images to label."""
from __future__ import annotations

from typing import Optional, Tuple

import faiss
import numpy as np

from moco_plugin.evaluation.knn import l2_normalize

# TypiClust's settings (Hacohen et al., https://arxiv.org/abs/2202.02794): typicality over
# 20 neighbours, clusters smaller than 5 are not trusted, at most 500 clusters.
TYPICALITY_NEIGHBOURS = 20
MIN_CLUSTER_SIZE = 5
MAX_CLUSTERS = 500


def _prepare(embeddings: np.ndarray, normalize: bool) -> np.ndarray:
    # Network features compare by direction (cosine); plain points by position.
    return l2_normalize(embeddings) if normalize else np.ascontiguousarray(embeddings, np.float32)


def kmeans(embeddings: np.ndarray, k: int, seed: int = 0, iterations: int = 20,
           normalize: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """faiss k-means (on L2-normalised embeddings by default): ``(centroids, assignment)``."""
    x = _prepare(embeddings, normalize)
    if not 1 <= k <= len(x):
        raise ValueError(f'k-means needs 1 <= k <= {len(x)} points, got k={k}')
    # max_points_per_centroid: faiss would otherwise subsample large sets without saying so.
    model = faiss.Kmeans(x.shape[1], k, niter=iterations, seed=seed, verbose=False,
                         max_points_per_centroid=max(256, len(x) // k + 1))
    model.train(x)
    _, assignment = model.index.search(x, 1)
    return model.centroids, assignment.reshape(-1).astype(np.int64)


def diversity_picks(embeddings: np.ndarray, budget: int, candidates: np.ndarray, seed: int = 0,
                    normalize: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """One candidate per k-means cluster (``budget`` clusters), the one nearest its centre.

    Returns:
        ``(picks, cluster of each pick)``: ``budget`` distinct candidates, at most one per
        cluster (faiss re-seeds empty clusters, so each of the ``budget`` clusters has one).
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if budget > len(candidates):
        raise ValueError(f'budget {budget} is larger than the {len(candidates)} candidates')
    x = _prepare(embeddings[candidates], normalize)
    centroids, assignment = kmeans(x, budget, seed, normalize=False)
    distance = ((x - centroids[assignment]) ** 2).sum(axis=1)
    picks, clusters = [], []
    for cluster in np.unique(assignment):
        members = np.flatnonzero(assignment == cluster)
        picks.append(candidates[members[np.argmin(distance[members])]])
        clusters.append(cluster)
    picks = np.asarray(picks, dtype=np.int64)
    if len(picks) < budget:  # an empty cluster after all: fill with the farthest-out points
        rest = np.setdiff1d(candidates, picks)
        far = rest[np.argsort(-distance[np.searchsorted(candidates, rest)], kind='stable')]
        picks = np.concatenate([picks, far[:budget - len(picks)]])
        clusters += [-1] * (budget - len(clusters))
    return picks, np.asarray(clusters, dtype=np.int64)


def typicality(embeddings: np.ndarray, neighbours: int = TYPICALITY_NEIGHBOURS) -> np.ndarray:
    """``1 / mean L2 distance to the k nearest other points`` (TypiClust's density)."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if len(x) < 2:
        return np.ones(len(x))
    k = min(neighbours, len(x) - 1)
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    squared, _ = index.search(x, k + 1)  # the first neighbour is the point itself
    mean_distance = np.sqrt(np.maximum(squared[:, 1:], 0)).mean(axis=1)
    return 1.0 / (mean_distance + 1e-8)


def typiclust_picks(embeddings: np.ndarray, labelled: np.ndarray, budget: int, seed: int = 0,
                    max_clusters: int = MAX_CLUSTERS, min_cluster_size: int = MIN_CLUSTER_SIZE,
                    neighbours: int = TYPICALITY_NEIGHBOURS,
                    assignment: Optional[np.ndarray] = None, normalize: bool = True
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """TypiClust (`Hacohen et al. 2022 <https://arxiv.org/abs/2202.02794>`_) picks.

    k-means into ``min(len(labelled) + budget, max_clusters)`` clusters; then
    ``budget`` times: among clusters of at least ``min_cluster_size`` points,
    the one with the fewest labelled points (the largest first among equals)
    gives its most typical unlabelled point.

    Returns:
        ``(picks, typicality of each pick)``.
    """
    n = len(embeddings)
    labelled = np.asarray(labelled, dtype=np.int64)
    if budget > n - len(labelled):
        raise ValueError(f'budget {budget} is larger than the {n - len(labelled)} unlabelled images')
    x = _prepare(embeddings, normalize)
    if assignment is None:
        _, assignment = kmeans(x, min(len(labelled) + budget, max_clusters, n), seed,
                               normalize=False)
    sizes = np.bincount(assignment)
    covered = np.bincount(assignment[labelled], minlength=len(sizes)) if len(labelled) else \
        np.zeros(len(sizes), dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    taken[labelled] = True
    typical_of = {}
    picks, values = [], []
    for _ in range(budget):
        has_unlabelled = sizes > covered  # covered counts labelled and picked members
        eligible = (sizes >= min_cluster_size) & has_unlabelled
        if not eligible.any():  # tiny clusters only: allow them
            eligible = has_unlabelled
        # fewest labelled first, then the largest cluster, then the lowest id
        order = np.lexsort((np.arange(len(sizes)), -sizes, covered))
        cluster = next(c for c in order if eligible[c])
        members = np.flatnonzero(assignment == cluster)
        if cluster not in typical_of:
            typical_of[cluster] = typicality(x[members], neighbours)
        score = np.where(taken[members], -np.inf, typical_of[cluster])
        best = int(np.argmax(score))
        picks.append(members[best])
        values.append(typical_of[cluster][best])
        taken[members[best]] = True
        covered[cluster] += 1
    return np.asarray(picks, dtype=np.int64), np.asarray(values)
