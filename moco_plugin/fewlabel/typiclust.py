"""TypiClust (`Hacohen et al. 2022 <https://arxiv.org/abs/2202.02794>`_), as its authors wrote it.

Follows ``deep-al/pycls/al/typiclust.py`` of https://github.com/avihu111/TypiClust:

1. k-means of the L2-normalised pool into ``min(L + B, max_clusters)`` clusters
   (the authors' cap: 500; ``--max-clusters`` here);
2. clusters of more than ``MIN_CLUSTER_SIZE = 5`` pool images (labelled ones included) are
   ordered once, by labelled count (fewest first), then size (largest first), then id;
3. pick ``i`` goes to the ``i``-th cluster of that order, round robin, and is the cluster's
   most typical *unlabelled, not yet picked* member: typicality ``1 / (mean squared L2
   distance to its k nearest such members + 1e-5)`` with ``k = min(20, members // 2)``,
   recomputed after each pick (the picked point leaves the set).

Differences, each on purpose:

* k-means is faiss's, fitted on a seeded sample (``diversity.kmeans_assign``), not
  scikit-learn's ``KMeans`` / ``MiniBatchKMeans(batch_size=5000)``: at the authors' setting
  (k = 500, 131,072 x 512) faiss reaches a 5 % lower k-means objective (0.582 against 0.613)
  in 15.8 s against 10.8 s, and the same library gives the neighbours; at 12,800 clusters
  the sample bounds the fit (benchmarks/results/few_labels/scale.md).
* A cluster whose unlabelled members are all used is skipped (the authors' code would take
  ``argmax`` of an empty array and fail); when every eligible cluster is used up, or no
  cluster has more than 5 images (the authors' code divides by zero), clusters of any size
  take part, in the same order.
* "Recomputed after each pick" is exact but incremental: each member keeps its
  ``2k`` nearest neighbours; a pick masks itself out of the lists, and a cluster is searched
  again only when some member has fewer than ``k`` of them left. At 500 clusters of about
  1,000 points and 12,800 picks a fresh search per pick is some 13 TFLOP (estimated: about
  4 minutes at the 53 GFLOP/s faiss reaches on one core here); the incremental one gives
  the authors' picks (tests/test_fewlabel/test_typiclust.py compares pick for pick).
* The paper's equation uses the mean L2 distance; the authors' code (faiss
  ``IndexFlatL2``) averages *squared* distances. This follows the code; the paper's form
  changes 0 of 100 and 2 of 1,000 picks on the benchmark's data
  (benchmarks/scripts/few_labels_typicality_squared.py).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import faiss
import numpy as np

from moco_plugin.fewlabel.diversity import KMEANS_ITERATIONS, kmeans_assign, prepare

TYPICALITY_NEIGHBOURS = 20
MIN_CLUSTER_SIZE = 5
MAX_CLUSTERS = 500
EPS = 1e-5  # the authors' 1 / (mean distance + 1e-5)


def _neighbour_lists(x: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Squared distances and indices of each row's ``k`` nearest *other* rows (sorted)."""
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    squared, found = index.search(x, min(k + 1, len(x)))
    # Drop each row itself (with repeated points it need not come first).
    own = found == np.arange(len(x))[:, None]
    keep = ~own
    keep[own.sum(axis=1) == 0, -1] = False  # self not found: drop the farthest instead
    width = keep.sum(axis=1).min()
    squared = np.maximum(squared[keep].reshape(len(x), width), 0)
    return squared, found[keep].reshape(len(x), width)


def typicality(embeddings: np.ndarray, neighbours: int = TYPICALITY_NEIGHBOURS) -> np.ndarray:
    """``1 / (mean squared L2 distance to the k nearest other points + 1e-5)`` (the authors')."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    k = min(neighbours, len(x) - 1)
    if k < 1:
        return np.ones(len(x))
    squared, _ = _neighbour_lists(x, k)
    return 1.0 / (squared[:, :k].mean(axis=1) + EPS)


class _Cluster:
    """The unlabelled members of one cluster and their (incrementally kept) typicality."""

    def __init__(self, members: np.ndarray, x: np.ndarray, neighbours: int):
        # x: the whole pool's prepared points (shared, not copied); members: pool indices
        self.members, self.x, self.neighbours = members, x, neighbours
        self.alive = np.ones(len(members), dtype=bool)
        self._search()

    def _k(self) -> int:
        return min(self.neighbours, int(self.alive.sum()) // 2)

    def _search(self) -> None:
        alive = np.flatnonzero(self.alive)
        k = self._k()
        if k < 1:
            self.squared = self.index = None
            return
        squared, found = _neighbour_lists(self.x[self.members[alive]], 2 * k)
        self.squared, self.index = squared, alive[found]  # local ids into members
        self.rows = alive

    def best(self) -> Tuple[int, float]:
        """Local id and typicality of the most typical living member (lowest id on ties)."""
        k = self._k()
        if k < 1:  # one member left: the authors' mean over 0 neighbours; take it
            return int(np.flatnonzero(self.alive)[0]), 0.0
        valid = self.alive[self.index]
        if (valid.sum(axis=1)[self.alive[self.rows]] < k).any():
            self._search()
            valid = self.alive[self.index]
        used = valid & (np.cumsum(valid, axis=1) <= k)
        value = 1.0 / ((self.squared * used).sum(axis=1) / k + EPS)
        value[~self.alive[self.rows]] = -np.inf
        top = int(np.argmax(value))
        return int(self.rows[top]), float(value[top])

    def take(self, local: int) -> None:
        self.alive[local] = False


def typiclust_picks(embeddings: np.ndarray, labelled: np.ndarray, budget: int, seed: int = 0,
                    max_clusters: int = MAX_CLUSTERS, min_cluster_size: int = MIN_CLUSTER_SIZE,
                    neighbours: int = TYPICALITY_NEIGHBOURS,
                    assignment: Optional[np.ndarray] = None, normalize: bool = True,
                    fit_points: Optional[int] = None, iterations: int = KMEANS_ITERATIONS
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """TypiClust picks (see the module docstring for the exact rule).

    Args:
        embeddings: ``(N, D)`` features of the pool.
        labelled: Indices already labelled (never picked; they count towards coverage).
        budget: Images to pick.
        max_clusters: Cap on the number of clusters (``min(L + B, max_clusters)``).
        min_cluster_size: Clusters of at most this many pool images are skipped.
        assignment: A given clustering (cluster id per pool image) instead of k-means.

    Returns:
        ``(picks, typicality of each pick)`` (0 for a pick that was its cluster's last
        unlabelled member: no neighbours to measure).
    """
    n = len(embeddings)
    labelled = np.unique(np.asarray(labelled, dtype=np.int64))
    if budget > n - len(labelled):
        raise ValueError(f'budget {budget} is larger than the {n - len(labelled)} unlabelled '
                         'images')
    if max_clusters < 1:
        raise ValueError(f'max_clusters must be >= 1, got {max_clusters}; pass --max-clusters N')
    x = prepare(embeddings, normalize)
    if assignment is None:
        _, assignment, _ = kmeans_assign(x, min(len(labelled) + budget, max_clusters, n), seed,
                                         iterations, fit_points)
    assignment = np.asarray(assignment, dtype=np.int64)
    sizes = np.bincount(assignment)
    existing = np.bincount(assignment[labelled], minlength=len(sizes))
    ids = np.flatnonzero(sizes)
    order = ids[np.lexsort((ids, -sizes[ids], existing[ids]))]
    eligible = order[sizes[order] > min_cluster_size]
    free = np.ones(n, dtype=bool)
    free[labelled] = False
    by_cluster = np.argsort(assignment, kind='stable')
    starts = np.r_[0, np.cumsum(sizes)]
    state: Dict[int, _Cluster] = {}
    left = {int(c): int(sizes[c] - existing[c]) for c in ids}
    picks, values = [], []
    for rotation in (eligible, order):  # the authors' order; then any size, once it runs out
        position, remaining = 0, sum(left[int(c)] for c in rotation)
        while len(picks) < budget and remaining:
            cluster = int(rotation[position % len(rotation)])
            position += 1
            if not left[cluster]:
                continue
            if cluster not in state:
                members = by_cluster[starts[cluster]:starts[cluster + 1]]
                members = members[free[members]]
                state[cluster] = _Cluster(members, x, neighbours)
            local, value = state[cluster].best()
            state[cluster].take(local)
            left[cluster] -= 1
            remaining -= 1
            picks.append(int(state[cluster].members[local]))
            values.append(value)
    return np.asarray(picks, dtype=np.int64), np.asarray(values, dtype=np.float64)
