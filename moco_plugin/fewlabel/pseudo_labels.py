"""Pseudo-labels: keep a teacher's confident predictions on unlabelled images.

The source report: pseudo-labels come from a *different* model than the one being trained
(:func:`check_different_teacher` compares backbone state-dict hashes), above a threshold
per certainty criterion, optionally capped per class so that an easy class does not flood
the student's training set. Thresholds are given by value, by count or quantile ("the same
number for each criterion": each criterion alone would keep that many of the pool; the
intersection is kept), or chosen for a target precision estimated by cross-validation over
the labelled images (:func:`threshold_for_precision`).

Certainty criteria, all in [0, 1] (1 = most certain): ``confidence`` (max probability),
``margin`` (top-1 minus top-2 probability) and ``entropy`` (``1 - H / log C``; a k-NN
teacher's is at least ``1 - log k / log C``, see ``uncertainty.max_knn_entropy``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from moco_plugin.fewlabel.uncertainty import (_by_chunks, check_threshold, entropy, margin,
                                              max_knn_entropy)

CRITERIA = ('confidence', 'margin', 'entropy')
MIN_SUPPORT = 10  # a precision estimate needs at least this many held-out images kept


@dataclass
class PseudoLabels:
    """Pool indices, predicted labels and confidences (max probability) of the kept images."""

    indices: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray
    thresholds: Optional[Dict[str, float]] = None  # per criterion, as applied


def certainty(probs: np.ndarray, kind: str) -> np.ndarray:
    """One of :data:`CRITERIA` per row, float64 in [0, 1]."""
    if kind == 'confidence':
        return _by_chunks(probs, lambda p: p.max(axis=1))
    if kind == 'margin':
        return 1.0 - margin(probs)
    if kind == 'entropy':
        return 1.0 - entropy(probs)
    raise ValueError(f'unknown criterion {kind!r}; choose from {", ".join(CRITERIA)}')


def cut_value(scores: np.ndarray, count: Optional[int] = None,
              quantile: Optional[float] = None) -> float:
    """The threshold that keeps the ``count`` highest scores (or the top ``quantile`` share).

    Equal scores at the cut are all kept, so a few more may pass.
    """
    if (count is None) == (quantile is None):
        raise ValueError('give exactly one of count and quantile')
    if quantile is not None:
        if not 0.0 < quantile <= 1.0:
            raise ValueError(f'quantile must be in (0, 1], got {quantile}')
        count = int(np.ceil(quantile * len(scores)))
    if count < 1:
        raise ValueError(f'count must be >= 1, got {count}')
    if count >= len(scores):
        return float(scores.min()) if len(scores) else 1.0
    return float(np.partition(scores, len(scores) - count)[len(scores) - count])


def pseudo_label(probs: np.ndarray, threshold: Optional[float] = None,
                 max_per_class: Optional[int] = None, exclude: Sequence[int] = (),
                 criteria: Sequence[str] = ('confidence',), count: Optional[int] = None,
                 quantile: Optional[float] = None) -> PseudoLabels:
    """Images that pass every criterion's threshold, the most confident first per class.

    Args:
        probs: ``(N, C)`` teacher probabilities of the pool.
        threshold: One value in [0, 1] for every criterion; or instead
        count / quantile: per criterion, the threshold that this many (this share) of the
            candidate images pass (the same number for each criterion).
        max_per_class: Keep at most this many per predicted class (the most
            confident; equal confidences: the lower index).
        exclude: Indices never pseudo-labelled (the labelled images).
        criteria: Names of :data:`CRITERIA` (default: the max probability alone).

    Returns:
        The kept images, sorted by index, with the thresholds applied.
    """
    if sum(x is not None for x in (threshold, count, quantile)) != 1:
        raise ValueError('give exactly one of threshold, count and quantile')
    if threshold is not None:
        check_threshold('confidence', threshold)
    if max_per_class is not None and max_per_class < 1:
        raise ValueError(f'max_per_class must be >= 1, got {max_per_class}')
    candidate = np.ones(len(probs), dtype=bool)
    candidate[np.asarray(exclude, dtype=np.int64)] = False
    keep, applied = candidate.copy(), {}
    for kind in dict.fromkeys(criteria):
        scores = certainty(probs, kind)
        applied[kind] = threshold if threshold is not None else \
            cut_value(scores[candidate], count, quantile)
        keep &= scores >= applied[kind]
    predicted = np.argmax(probs, axis=1)  # ties: the lower class
    confidence = certainty(probs, 'confidence')
    chosen = np.flatnonzero(keep)
    if max_per_class is not None:
        capped = []
        for c in np.unique(predicted[chosen]):
            members = chosen[predicted[chosen] == c]
            order = np.argsort(-confidence[members], kind='stable')
            capped.append(members[order[:max_per_class]])
        chosen = np.sort(np.concatenate(capped)) if capped else chosen
    return PseudoLabels(chosen, predicted[chosen], confidence[chosen], applied)


def pseudo_label_warnings(probs: np.ndarray, kept: PseudoLabels, criteria: Sequence[str],
                          exclude: Sequence[int] = (),
                          knn_neighbours: Optional[int] = None) -> List[str]:
    """Loud lines for thresholds that pass nothing, or (k-NN entropy) cannot select anything."""
    out = []
    pool = np.ones(len(probs), dtype=bool)
    pool[np.asarray(exclude, dtype=np.int64)] = False
    if not len(kept.indices) and pool.any():
        best = {k: round(float(certainty(probs, k)[pool].max()), 4)
                for k in dict.fromkeys(criteria)}
        out.append(f'WARNING: the thresholds {kept.thresholds} pass none of the {int(pool.sum())} '
                   f'unlabelled images (the highest values are {best}); lower them')
    if knn_neighbours and 'entropy' in criteria:
        floor = 1.0 - max_knn_entropy(knn_neighbours, probs.shape[1])
        if kept.thresholds and kept.thresholds.get('entropy', 1.0) <= floor:
            out.append(f'WARNING: a {knn_neighbours}-NN teacher\'s normalised entropy is at most '
                       f'log k / log C, so its entropy certainty is >= {floor:.3f}: the entropy '
                       'threshold passes every image')
    return out


def precision_curve(probs: np.ndarray, true_labels: np.ndarray,
                    criteria: Sequence[str] = ('confidence',)) -> Dict[str, np.ndarray]:
    """Precision and count kept for every threshold value a set of predictions offers.

    An image passes threshold ``t`` when every criterion is ``>= t``, i.e. when the
    smallest of its criteria is. Returns ``threshold`` (descending distinct values),
    ``kept`` and ``precision`` at each.
    """
    score = np.min([certainty(probs, k) for k in dict.fromkeys(criteria)], axis=0)
    correct = np.argmax(probs, axis=1) == np.asarray(true_labels)
    order = np.argsort(-score, kind='stable')
    score, correct = score[order], correct[order]
    last = np.r_[score[1:] != score[:-1], True]  # the last row of each distinct value
    kept = np.arange(1, len(score) + 1)[last]
    return dict(threshold=score[last], kept=kept,
                precision=np.cumsum(correct)[last] / kept)


def threshold_for_precision(probs: np.ndarray, true_labels: np.ndarray, target: float,
                            criteria: Sequence[str] = ('confidence',),
                            min_support: int = MIN_SUPPORT) -> Dict[str, float]:
    """The lowest threshold whose estimated precision is ``>= target``.

    ``probs`` are out-of-fold predictions of labelled images (``teacher.cross_validated_probs``);
    only thresholds that keep at least ``min_support`` of them count.

    Returns:
        ``threshold``, the estimated ``precision`` and the share of held-out images kept.

    Raises:
        ValueError: No threshold reaches the target (the message names the best reachable).
    """
    check_threshold('target precision', target)
    curve = precision_curve(probs, true_labels, criteria)
    ok = (curve['precision'] >= target) & (curve['kept'] >= min_support)
    if not ok.any():
        supported = curve['kept'] >= min_support
        best = float(curve['precision'][supported].max()) if supported.any() else float('nan')
        raise ValueError(f'no threshold reaches precision {target} on the cross-validation over '
                         f'the {len(probs)} labelled images (best {best:.3f} with at least '
                         f'{min_support} kept); lower --target-precision or label more images')
    at = np.flatnonzero(ok)[-1]  # thresholds descend: the last one that is ok is the lowest
    return dict(threshold=float(curve['threshold'][at]), precision=float(curve['precision'][at]),
                coverage=float(curve['kept'][at] / len(probs)))


def check_different_teacher(teacher_weights_sha256: Optional[str],
                            student_weights_sha256: Optional[str],
                            allow_same: bool = False) -> Optional[str]:
    """Refuse a teacher whose backbone weights are the student's (the report's rule).

    Returns:
        None if they differ (or one is unknown); with ``allow_same``, the warning to print.

    Raises:
        ValueError: The same weights and ``allow_same`` is False.
    """
    if not teacher_weights_sha256 or teacher_weights_sha256 != student_weights_sha256:
        return None
    message = (f'the pseudo-label teacher has the student\'s own backbone weights (sha256 '
               f'{teacher_weights_sha256[:12]}): it only repeats what the student already '
               'believes (benchmarks/results/few_labels/README.md: -0.5 points)')
    if not allow_same:
        raise ValueError(message + '; pseudo-label with another checkpoint, or pass '
                         '--allow-same-teacher')
    return 'WARNING: ' + message + '; going on because of --allow-same-teacher'


def precision_coverage(probs: np.ndarray, true_labels: np.ndarray, thresholds: Sequence[float],
                       exclude: Sequence[int] = ()) -> List[Dict[str, float]]:
    """Per threshold: coverage (share of the pool kept) and precision (share of kept that is right).

    The pool is every image not in ``exclude``; precision is NaN where nothing is kept.
    """
    true_labels = np.asarray(true_labels)
    pool = np.ones(len(probs), dtype=bool)
    pool[np.asarray(exclude, dtype=np.int64)] = False
    predicted, confidence = np.argmax(probs, axis=1), certainty(probs, 'confidence')
    rows = []
    for t in thresholds:
        kept = pool & (confidence >= check_threshold('confidence', t))
        n = int(kept.sum())
        correct = int((predicted[kept] == true_labels[kept]).sum())
        rows.append(dict(threshold=float(t), kept=n, coverage=n / max(int(pool.sum()), 1),
                         precision=correct / n if n else float('nan')))
    return rows
