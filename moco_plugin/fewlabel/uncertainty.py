"""Uncertainty scores of class-probability vectors, all in [0, 1] (1 = most uncertain).

Normalised so that a threshold means the same for any class count ``C``
(`Settles, Active Learning Literature Survey <https://burrsettles.com/pub/settles.activelearning.pdf>`_):

* least confidence: ``(1 - p_max) * C / (C - 1)`` (0 for a one-hot vector, 1 for uniform);
* margin: ``1 - (p_1 - p_2)`` (top-1 minus top-2 probability);
* entropy: ``H(p) / log C``.

The source report's thresholds map onto these: "max prob < t" is
least confidence ``> (1 - t) * C / (C - 1)``, "top-1 minus top-2 < t" is margin
``> 1 - t``, "entropy > t" (normalised) is entropy ``> t``.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

SCORES = ('least_confidence', 'margin', 'entropy')


# Rows scored at a time: a (512,000 x 800) float32 probability matrix is scored in float64
# blocks of ~26 MB instead of whole float64 copies (~3.3 GB each).
CHUNK_ROWS = 4096


def _check(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f'probabilities must be (N, C) with C >= 2, got shape {probs.shape}')
    return probs


def _by_chunks(probs: np.ndarray, score) -> np.ndarray:
    """``score`` of float64 row blocks of ``probs``, as one ``(N,)`` float64 array."""
    probs = _check(probs)
    out = np.empty(len(probs), dtype=np.float64)
    for start in range(0, len(probs), CHUNK_ROWS):
        block = np.asarray(probs[start:start + CHUNK_ROWS], dtype=np.float64)
        out[start:start + len(block)] = score(block)
    return out


def _least_confidence(p: np.ndarray) -> np.ndarray:
    c = p.shape[1]
    return np.clip((1.0 - p.max(axis=1)) * c / (c - 1), 0.0, 1.0)


def _margin(p: np.ndarray) -> np.ndarray:
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return np.clip(1.0 - (top2[:, 0] - top2[:, 1]), 0.0, 1.0)


def _entropy(p: np.ndarray) -> np.ndarray:
    safe = np.where(p > 0, p, 1.0)
    return np.clip(-(p * np.log(safe)).sum(axis=1) / np.log(p.shape[1]), 0.0, 1.0)


def least_confidence(probs: np.ndarray) -> np.ndarray:
    """``(1 - max_c p_c) * C / (C - 1)``."""
    return _by_chunks(probs, _least_confidence)


def margin(probs: np.ndarray) -> np.ndarray:
    """``1 - (p_(1) - p_(2))`` with ``p_(1) >= p_(2)`` the two largest probabilities."""
    return _by_chunks(probs, _margin)


def entropy(probs: np.ndarray) -> np.ndarray:
    """Shannon entropy over ``log C`` (``0 log 0 = 0``)."""
    return _by_chunks(probs, _entropy)


def max_knn_entropy(neighbours: int, num_classes: int) -> float:
    """The largest normalised entropy a k-NN teacher can give: ``log k / log C``.

    Its probabilities are votes of ``k`` neighbours, so at most ``k`` classes are non-zero
    and ``H <= log k`` (1 when ``k >= C``). An entropy threshold above it passes nothing.
    """
    return min(1.0, float(np.log(max(neighbours, 1)) / np.log(num_classes)))


def uncertainty(probs: np.ndarray, kind: str) -> np.ndarray:
    """One of :data:`SCORES` by name."""
    functions = dict(least_confidence=least_confidence, margin=margin, entropy=entropy)
    if kind not in functions:
        raise ValueError(f'unknown uncertainty score {kind!r}; choose one of {", ".join(SCORES)}')
    return functions[kind](probs)


def top_ranked(scores: np.ndarray, budget: int, candidates: Optional[np.ndarray] = None
               ) -> np.ndarray:
    """The ``budget`` candidates with the highest score; equal scores: the lower index first.

    Args:
        scores: ``(N,)`` scores of every image.
        budget: How many to return (at most the number of candidates).
        candidates: Indices allowed (default: all).
    """
    candidates = np.arange(len(scores)) if candidates is None else np.asarray(candidates)
    candidates = np.sort(candidates)  # a stable sort then breaks ties by index
    order = np.argsort(-np.asarray(scores)[candidates], kind='stable')
    return candidates[order[:budget]]


def check_threshold(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'{name} threshold must be in [0, 1] (scores are normalised), got {value}')
    return float(value)


def above_thresholds(probs: np.ndarray, thresholds: Dict[str, float],
                     candidates: Optional[Sequence[int]] = None) -> np.ndarray:
    """Candidates whose every named score is ``>= `` its threshold (the intersection), sorted.

    ``thresholds`` maps score names to thresholds, e.g. ``dict(entropy=0.5)``
    for one threshold or all three for the source report's intersection.
    """
    if not thresholds:
        raise ValueError('give at least one threshold')
    keep = np.ones(len(probs), dtype=bool)
    for kind, value in thresholds.items():
        keep &= uncertainty(probs, kind) >= check_threshold(kind, value)
    chosen = np.flatnonzero(keep)
    if candidates is not None:
        chosen = np.intersect1d(chosen, np.asarray(candidates))
    return chosen
