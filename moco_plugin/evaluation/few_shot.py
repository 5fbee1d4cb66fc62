"""N-way K-shot classification on frozen features: seeded episodes, two classifiers.

The protocol of few-shot benchmarks on frozen embeddings (e.g. `Tian et al. 2020,
"Rethinking few-shot image classification" <https://arxiv.org/abs/2003.11539>`_): each
episode draws ``n_way`` classes, ``k_shot`` labelled support images and ``n_query`` query
images per class from the evaluation split, fits a classifier on the support features and
scores the queries; the result is the mean accuracy and its 95 % interval over episodes.
Features are L2-normalised first.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from moco_plugin.evaluation.knn import l2_normalize

CLASSIFIERS = ('prototype', 'logistic')


@dataclass
class FewShotResult:
    """Accuracy (percent) of every episode, with mean and 95 % interval half-width."""

    n_way: int
    k_shot: int
    classifier: str
    accuracies: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.accuracies.mean())

    @property
    def ci95(self) -> float:
        """``1.96 * std / sqrt(episodes)``: the usual normal-approximation interval."""
        n = len(self.accuracies)
        return float(1.96 * self.accuracies.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0

    def to_json(self) -> Dict:
        return dict(n_way=self.n_way, k_shot=self.k_shot, classifier=self.classifier,
                    episodes=len(self.accuracies), mean=round(self.mean, 3),
                    ci95=round(self.ci95, 3))


def sample_episode(labels: np.ndarray, n_way: int, k_shot: int, n_query: int,
                   rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Indices and episode labels (``0..n_way-1``) of one episode's support and query images.

    Example:
        >>> labels = np.repeat(np.arange(4), 10)
        >>> s, sy, q, qy = sample_episode(labels, 2, 1, 3, np.random.default_rng(0))
        >>> len(s), len(q), sorted(set(sy.tolist())), sorted(set(qy.tolist()))
        (2, 6, [0, 1], [0, 1])
    """
    classes = np.unique(labels)
    eligible = [c for c in classes if (labels == c).sum() >= k_shot + n_query]
    if len(eligible) < n_way:
        raise ValueError(f'{n_way}-way {k_shot}-shot episodes with {n_query} queries need '
                         f'{n_way} classes of at least {k_shot + n_query} images; the split has '
                         f'{len(eligible)}: lower --few-shot-queries or the way/shot')
    chosen = rng.choice(eligible, size=n_way, replace=False)
    support, support_y, query, query_y = [], [], [], []
    for episode_label, cls in enumerate(chosen):
        members = rng.permutation(np.flatnonzero(labels == cls))[:k_shot + n_query]
        support.append(members[:k_shot])
        query.append(members[k_shot:])
        support_y.append(np.full(k_shot, episode_label))
        query_y.append(np.full(n_query, episode_label))
    return (np.concatenate(support), np.concatenate(support_y), np.concatenate(query),
            np.concatenate(query_y))


def prototype_predict(support: np.ndarray, support_y: np.ndarray, query: np.ndarray,
                      n_way: int) -> np.ndarray:
    """Nearest class mean by cosine similarity (prototypical networks on frozen features)."""
    prototypes = np.stack([support[support_y == c].mean(axis=0) for c in range(n_way)])
    return np.argmax(l2_normalize(query) @ l2_normalize(prototypes).T, axis=1)


def logistic_predict(support: np.ndarray, support_y: np.ndarray, query: np.ndarray,
                     n_way: int, steps: int = 100, weight_decay: float = 1e-3) -> np.ndarray:
    """Multinomial logistic regression fitted on the support set (full-batch L-BFGS)."""
    x = torch.from_numpy(l2_normalize(support))
    y = torch.from_numpy(support_y.astype(np.int64))
    generator = torch.Generator().manual_seed(0)
    weight = (0.01 * torch.randn(x.shape[1], n_way, generator=generator)).requires_grad_()
    bias = torch.zeros(n_way, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=steps,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        # Features are unit vectors: a scale of 10 lets the logits separate the classes.
        loss = F.cross_entropy(10 * x @ weight + bias, y) + weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        logits = 10 * torch.from_numpy(l2_normalize(query)) @ weight + bias
    return logits.argmax(dim=1).numpy()


def _predict(classifier: str, *args) -> np.ndarray:
    if classifier == 'prototype':
        return prototype_predict(*args)
    if classifier == 'logistic':
        return logistic_predict(*args)
    raise ValueError(f'unknown few-shot classifier {classifier!r}; use one of {CLASSIFIERS}')


def few_shot_episodes(features: np.ndarray, labels: np.ndarray, n_way: int, k_shot: int,
                      n_query: int = 15, episodes: int = 600, seed: int = 0,
                      classifier: str = 'prototype') -> FewShotResult:
    """Mean accuracy over ``episodes`` seeded episodes drawn from ``features`` / ``labels``."""
    if n_way < 2 or k_shot < 1 or n_query < 1 or episodes < 1:
        raise ValueError(f'few-shot needs n_way >= 2, k_shot >= 1, queries >= 1 and episodes >= 1; '
                         f'got {n_way}, {k_shot}, {n_query}, {episodes}')
    features = np.asarray(features, dtype=np.float32)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    accuracies = []
    for _ in range(episodes):
        s, sy, q, qy = sample_episode(labels, n_way, k_shot, n_query, rng)
        predicted = _predict(classifier, features[s], sy, features[q], n_way)
        accuracies.append(100.0 * float((predicted == qy).mean()))
    return FewShotResult(n_way, k_shot, classifier, np.asarray(accuracies))


def few_shot_full_test(train_features: np.ndarray, train_labels: np.ndarray,
                       test_features: np.ndarray, test_labels: np.ndarray, k_shot: int,
                       seeds: List[int], classifier: str = 'prototype') -> FewShotResult:
    """All classes, ``k_shot`` training images each, scored on the whole test split (per seed)."""
    classes = np.unique(train_labels)
    accuracies = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        picks = np.concatenate([rng.permutation(np.flatnonzero(train_labels == c))[:k_shot]
                                for c in classes])
        remap = {c: i for i, c in enumerate(classes)}
        support_y = np.array([remap[c] for c in train_labels[picks]])
        predicted = _predict(classifier, train_features[picks], support_y, test_features,
                             len(classes))
        truth = np.array([remap.get(c, -1) for c in test_labels])
        accuracies.append(100.0 * float((predicted == truth).mean()))
    return FewShotResult(len(classes), k_shot, classifier, np.asarray(accuracies))
