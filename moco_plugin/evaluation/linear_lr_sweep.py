"""Choose the linear probe's learning rate on a held-out part of the training split.

The MoCo protocol fixes lr 30 for features that come straight out of the
pooled backbone. How well that suits a given backbone depends on the scale of
its features, and picking the lr by the *test* accuracy would report an upper
bound rather than a result. So, as in common SSL linear-evaluation practice
(e.g. `Kolesnikov et al., 2019 <https://arxiv.org/abs/1901.09005>`_ and
`Ericsson et al., 2021 <https://arxiv.org/abs/2011.13377>`_), every candidate
lr is trained on most of the training split and scored on a class-stratified
held-out part of it; the best one is then retrained on the whole training split
and only that run is evaluated on the test split.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.evaluation.linear_probe import LinearProbeSettings, linear_probe_on_features


@dataclass
class LinearLrSweep:
    """Held-out accuracy of every candidate lr and the one selected.

    Attributes:
        candidates: The learning rates tried, in the order given.
        val_top1: Held-out top-1 (percent) after the last epoch for each
            candidate; ``None`` where the probe diverged.
        selected_lr: The candidate with the best held-out top-1 (ties: the
            smaller lr).
        val_fraction: Fraction of each class held out.
        n_fit: Images the candidates were trained on.
        n_val: Held-out images they were scored on.
    """

    candidates: List[float]
    val_top1: List[Optional[float]]
    selected_lr: float
    val_fraction: float
    n_fit: int
    n_val: int

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def holdout_split(labels: np.ndarray, fraction: float, seed: int = 0,
                  groups: Optional[Sequence] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Class-stratified split of indices into (fit, held-out).

    From each class, ``round(fraction * count)`` images are held out, at least
    one and at most ``count - 1``, so every class is both fitted and scored.
    With ``groups`` (e.g. the track of the physical object a video frame shows),
    whole groups are held out instead, so near-duplicates never sit on both sides.

    Args:
        labels: Integer labels ``(N,)``.
        fraction: Share of each class to hold out, in ``(0, 1)``.
        seed: Seed of the draw; the same seed gives the same split.
        groups: Optional group id of every image.

    Returns:
        Sorted index arrays ``fit`` and ``held_out`` that partition ``range(N)``.

    Example:
        >>> fit, held = holdout_split(np.array([0] * 4 + [1] * 4), 0.5, groups='aabbccdd')
        >>> [sorted(set('aabbccdd'[i] for i in part)) for part in (fit, held)] in (
        ...     [['a', 'c'], ['b', 'd']], [['a', 'd'], ['b', 'c']], [['b', 'c'], ['a', 'd']],
        ...     [['b', 'd'], ['a', 'c']])
        True
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f'held-out fraction must be in (0, 1), got {fraction}')
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    if groups is not None:
        return _group_holdout(labels, np.asarray(list(groups), dtype=object), fraction, rng)
    held_out = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if len(members) < 2:
            raise ValueError(f'class {cls} has {len(members)} training image(s); a held-out '
                             'split needs at least 2 per class (use one --linear-lr instead)')
        count = min(max(int(round(fraction * len(members))), 1), len(members) - 1)
        held_out.append(rng.choice(members, size=count, replace=False))
    held = np.sort(np.concatenate(held_out))
    fit = np.setdiff1d(np.arange(len(labels)), held, assume_unique=True)
    return fit, held


def _group_holdout(labels: np.ndarray, groups: np.ndarray, fraction: float,
                   rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    if len(groups) != len(labels):
        raise ValueError(f'{len(groups)} group ids for {len(labels)} images')
    chosen = set()
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        distinct = sorted(set(groups[members]), key=str)
        if len(distinct) < 2:
            raise ValueError(f'class {cls} has {len(distinct)} group(s); a group-aware held-out '
                             'split needs at least 2 per class')
        target = max(int(round(fraction * len(members))), 1)
        held = 0
        for group in rng.permutation(np.array(distinct, dtype=object)):
            if held >= target or len(chosen & set(distinct)) == len(distinct) - 1:
                break
            chosen.add(group)
            held += int((groups[members] == group).sum())
    held_mask = np.array([g in chosen for g in groups])
    return np.flatnonzero(~held_mask), np.flatnonzero(held_mask)


def sweep_linear_lr(train: FeatureSet, lrs: Sequence[float], settings: LinearProbeSettings,
                    val_fraction: float = 0.1, num_classes: Optional[int] = None,
                    progress: bool = True, log: Optional[Callable[[str], None]] = None,
                    groups: Optional[Sequence] = None) -> LinearLrSweep:
    """Train one probe per lr on the fit part of ``train``, score it on the held-out part.

    Args:
        train: Precomputed training-split features.
        lrs: Candidate base learning rates (at least one).
        settings: Every other probe setting; its ``lr`` is replaced by each
            candidate and its ``seed`` also seeds the split.
        val_fraction: Share of each class held out for scoring.
        num_classes: Classes of the head (default: from the labels).
        progress: Show progress bars.
        log: Receives one line per candidate.
        groups: Group id of every training image: held out by whole groups.

    Returns:
        The held-out scores and the selected lr.

    Raises:
        RuntimeError: Every candidate diverged.
    """
    if not lrs:
        raise ValueError('the lr sweep needs at least one candidate lr')
    fit_idx, val_idx = holdout_split(train.labels, val_fraction, settings.seed, groups)
    fit = FeatureSet(train.features[fit_idx], np.asarray(train.labels)[fit_idx])
    val = FeatureSet(train.features[val_idx], np.asarray(train.labels)[val_idx])
    if num_classes is None:
        num_classes = int(np.max(train.labels)) + 1
    scores: List[Optional[float]] = []
    for lr in lrs:
        try:
            probe = linear_probe_on_features(fit, val, dataclasses.replace(settings, lr=float(lr)),
                                             num_classes, progress)
            score: Optional[float] = probe.top1
        except RuntimeError:  # diverged: a candidate that is too large, not a failed benchmark
            score = None
        scores.append(score)
        if log is not None:
            log(f'lr sweep: lr {lr:g} -> held-out top-1 '
                + ('diverged' if score is None else f'{score:.2f}%'))
    valid = [(score, -lr, lr) for lr, score in zip(lrs, scores)
             if score is not None and math.isfinite(score)]
    if not valid:
        raise RuntimeError(f'the linear probe diverged for every lr in {list(lrs)}; try smaller '
                           'values or --linear-normalize')
    selected = max(valid)[2]
    return LinearLrSweep([float(lr) for lr in lrs], scores, float(selected), val_fraction,
                         len(fit_idx), len(val_idx))
