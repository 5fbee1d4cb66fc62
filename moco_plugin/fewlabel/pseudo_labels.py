"""Pseudo-labels: keep a teacher's confident predictions on unlabelled images.

The source report: pseudo-labels come from a *different* model than the one
being trained, above a confidence threshold, optionally capped per class so that
an easy class does not flood the student's training set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from moco_plugin.fewlabel.uncertainty import check_threshold


@dataclass
class PseudoLabels:
    """Pool indices, predicted labels and confidences (max probability) of the kept images."""

    indices: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray


def pseudo_label(probs: np.ndarray, threshold: float, max_per_class: Optional[int] = None,
                 exclude: Sequence[int] = ()) -> PseudoLabels:
    """Images whose max probability is ``>= threshold``, the most confident first per class.

    Args:
        probs: ``(N, C)`` teacher probabilities of the pool.
        threshold: Confidence threshold in [0, 1].
        max_per_class: Keep at most this many per predicted class (the most
            confident; equal confidences: the lower index).
        exclude: Indices never pseudo-labelled (the labelled images).

    Returns:
        The kept images, sorted by index.
    """
    check_threshold('confidence', threshold)
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(f'max_per_class must be >= 1, got {max_per_class}')
    probs = np.asarray(probs, dtype=np.float64)
    predicted = np.argmax(probs, axis=1)  # ties: the lower class
    confidence = probs.max(axis=1)
    keep = confidence >= threshold
    keep[np.asarray(exclude, dtype=np.int64)] = False
    chosen = np.flatnonzero(keep)
    if max_per_class is not None:
        capped = []
        for c in np.unique(predicted[chosen]):
            members = chosen[predicted[chosen] == c]
            order = np.argsort(-confidence[members], kind='stable')
            capped.append(members[order[:max_per_class]])
        chosen = np.sort(np.concatenate(capped)) if capped else chosen
    return PseudoLabels(chosen, predicted[chosen], confidence[chosen])


def precision_coverage(probs: np.ndarray, true_labels: np.ndarray, thresholds: Sequence[float],
                       exclude: Sequence[int] = ()) -> List[Dict[str, float]]:
    """Per threshold: coverage (share of the pool kept) and precision (share of kept that is right).

    The pool is every image not in ``exclude``; precision is NaN where nothing is kept.
    """
    probs = np.asarray(probs, dtype=np.float64)
    true_labels = np.asarray(true_labels)
    pool = np.ones(len(probs), dtype=bool)
    pool[np.asarray(exclude, dtype=np.int64)] = False
    predicted, confidence = np.argmax(probs, axis=1), probs.max(axis=1)
    rows = []
    for t in thresholds:
        kept = pool & (confidence >= check_threshold('confidence', t))
        n = int(kept.sum())
        correct = int((predicted[kept] == true_labels[kept]).sum())
        rows.append(dict(threshold=float(t), kept=n, coverage=n / max(int(pool.sum()), 1),
                         precision=correct / n if n else float('nan')))
    return rows
