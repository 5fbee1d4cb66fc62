"""Active-selection strategies: which B unlabelled images to label next.

Every strategy takes the pool (all images), the already labelled indices, the
teacher's class probabilities and/or the embeddings, and returns B distinct
unlabelled indices with a score each. None ever re-selects a labelled image.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from moco_plugin.fewlabel.diversity import KMEANS_ITERATIONS, diversity_picks
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS, typiclust_picks
from moco_plugin.fewlabel.uncertainty import (SCORES, above_thresholds, max_knn_entropy, top_ranked,
                                              uncertainty)

# The strategies and what they need: 'probs' (a teacher), 'embeddings', or neither.
STRATEGIES: Dict[str, tuple] = {
    'random': (),
    'least_confidence': ('probs',), 'margin': ('probs',), 'entropy': ('probs',),
    'least_confidence-threshold': ('probs',), 'margin-threshold': ('probs',),
    'entropy-threshold': ('probs',), 'intersection': ('probs',),
    'kmeans': ('embeddings',), 'typiclust': ('embeddings',), 'hybrid': ('probs', 'embeddings'),
}
# Uncertainty pre-filter of the hybrid: the B * factor most uncertain (margin) go to k-means.
HYBRID_PREFILTER = 10
DEFAULT_THRESHOLDS = dict(least_confidence=0.5, margin=0.5, entropy=0.5)


@dataclass
class Selection:
    """Picked indices (into the pool), their scores and what produced them."""

    indices: np.ndarray
    scores: np.ndarray
    strategy: str
    budget: int
    info: Dict[str, object] = field(default_factory=dict)


def check_strategy(strategy: str) -> str:
    if strategy not in STRATEGIES:
        raise ValueError(f'unknown strategy {strategy!r}; choose one of {", ".join(STRATEGIES)}')
    return strategy


def select(strategy: str, budget: int, pool_size: int, labelled: np.ndarray,
           probs: Optional[np.ndarray] = None, embeddings: Optional[np.ndarray] = None,
           seed: int = 0, thresholds: Optional[Dict[str, float]] = None,
           fill: bool = True, max_clusters: int = MAX_CLUSTERS,
           fit_points: Optional[int] = None, kmeans_iterations: int = KMEANS_ITERATIONS
           ) -> Selection:
    """Choose ``budget`` images of the unlabelled part of the pool.

    Args:
        strategy: A name of :data:`STRATEGIES`.
        budget: Images to choose (``<=`` the unlabelled pool).
        pool_size: Images in the pool ``N`` (indices ``0..N-1``).
        labelled: Indices already labelled (never chosen again).
        probs: ``(N, C)`` class probabilities of a teacher (uncertainty strategies).
        embeddings: ``(N, D)`` features (k-means, TypiClust, hybrid).
        seed: Seed of random draws and of k-means.
        thresholds: Score thresholds in [0, 1] for the threshold strategies
            (default :data:`DEFAULT_THRESHOLDS`).
        fill: Threshold strategies: when fewer than ``budget`` pass, fill up with
            the most uncertain of the rest (otherwise return fewer). When more
            pass, ``budget`` of them are drawn at random.
        max_clusters: TypiClust's cap on its ``L + B`` clusters (the authors': 500).
        fit_points: Points the k-means fit samples (default ``diversity.fit_size``).
        kmeans_iterations: Lloyd iterations of the k-means fit.

    Raises:
        ValueError: Unknown strategy, budget larger than the unlabelled pool,
            threshold outside [0, 1], missing probabilities or embeddings.
    """
    check_strategy(strategy)
    labelled = np.unique(np.asarray(labelled, dtype=np.int64))
    unlabelled = np.setdiff1d(np.arange(pool_size), labelled)
    if budget < 1 or budget > len(unlabelled):
        raise ValueError(f'budget {budget} must be between 1 and the {len(unlabelled)} unlabelled '
                         'images of the pool; lower --budget')
    needs = STRATEGIES[strategy]
    if 'probs' in needs and (probs is None or len(probs) != pool_size):
        raise ValueError(f'strategy {strategy} needs class probabilities for all {pool_size} pool '
                         'images (a teacher trained on the labelled images)')
    if 'embeddings' in needs and (embeddings is None or len(embeddings) != pool_size):
        raise ValueError(f'strategy {strategy} needs embeddings of all {pool_size} pool images')
    rng = np.random.default_rng(seed)
    info: Dict[str, object] = {}

    if strategy == 'random':
        picks = np.sort(rng.choice(unlabelled, size=budget, replace=False))
        scores = np.zeros(budget)
    elif strategy in SCORES:
        values = uncertainty(probs, strategy)
        picks = top_ranked(values, budget, unlabelled)
        scores = values[picks]
    elif strategy.endswith('-threshold') or strategy == 'intersection':
        picks, scores, info = _threshold_picks(strategy, budget, probs, unlabelled, rng,
                                               dict(thresholds or DEFAULT_THRESHOLDS), fill)
    elif strategy == 'kmeans':
        picks, clusters = diversity_picks(embeddings, budget, unlabelled, seed,
                                          fit_points=fit_points, iterations=kmeans_iterations)
        scores = clusters.astype(np.float64)
        info['score'] = 'cluster id'
    elif strategy == 'typiclust':
        picks, scores = typiclust_picks(embeddings, labelled, budget, seed, max_clusters,
                                        fit_points=fit_points, iterations=kmeans_iterations)
        info['max_clusters'] = max_clusters
        info['score'] = 'typicality'
    else:  # hybrid
        values = uncertainty(probs, 'margin')
        shortlist = top_ranked(values, min(len(unlabelled), HYBRID_PREFILTER * budget), unlabelled)
        picks, _ = diversity_picks(embeddings, budget, shortlist, seed, fit_points=fit_points,
                                    iterations=kmeans_iterations)
        scores = values[picks]
        info.update(prefilter=len(shortlist), score='margin')
    picks = np.asarray(picks, dtype=np.int64)
    if np.isin(picks, labelled).any() or len(np.unique(picks)) != len(picks):
        raise AssertionError(f'{strategy} picked a labelled or repeated image')  # a bug, not input
    return Selection(picks, np.asarray(scores, dtype=np.float64), strategy, budget, info)


def _threshold_picks(strategy: str, budget: int, probs: np.ndarray, unlabelled: np.ndarray,
                     rng: np.random.Generator, thresholds: Dict[str, float], fill: bool):
    kinds = list(SCORES) if strategy == 'intersection' else [strategy[:-len('-threshold')]]
    missing = [k for k in kinds if k not in thresholds]
    if missing:
        raise ValueError(f'strategy {strategy} needs a threshold for {", ".join(missing)}')
    passed = above_thresholds(probs, {k: thresholds[k] for k in kinds}, unlabelled)
    ranking = np.mean([uncertainty(probs, k) for k in kinds], axis=0)
    info: Dict[str, object] = dict(thresholds={k: thresholds[k] for k in kinds},
                                   n_passed=int(len(passed)), score='mean of ' + '+'.join(kinds))
    if len(passed) >= budget:
        picks = np.sort(rng.choice(passed, size=budget, replace=False))
    elif fill:
        rest = np.setdiff1d(unlabelled, passed)
        picks = np.concatenate([passed, top_ranked(ranking, budget - len(passed), rest)])
        info['filled'] = int(budget - len(passed))
    else:
        picks = passed
    return picks, ranking[picks], info


def knn_entropy_warning(thresholds: Optional[Dict[str, float]], strategy: str,
                        neighbours: Optional[int], num_classes: int) -> Optional[str]:
    """A loud line when an entropy threshold is above what a k-NN teacher can give."""
    value = (thresholds or DEFAULT_THRESHOLDS).get('entropy')
    if not neighbours or value is None or strategy not in ('entropy-threshold', 'intersection'):
        return None
    ceiling = max_knn_entropy(neighbours, num_classes)
    if value <= ceiling:
        return None
    return (f'WARNING: entropy threshold {value} can pass nothing: a {neighbours}-NN teacher\'s '
            f'normalised entropy is at most log {neighbours} / log {num_classes} = {ceiling:.3f}'
            '; lower it or use --teacher linear')
