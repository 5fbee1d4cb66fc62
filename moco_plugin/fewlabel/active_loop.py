"""The active-learning loop on cached features, with labels revealed from the dataset.

Each round: train a teacher (linear probe) on the labelled features, measure it on the
test features, score the unlabelled pool, pick the next images with a strategy and
"label" them by revealing their true labels, as a person labelling would.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.fewlabel.strategies import STRATEGIES, check_strategy, select
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS
from moco_plugin.fewlabel.teacher import train_teacher

# Cold start: the first labels of every run are a class-agnostic draw of the strategy
# itself where it needs no teacher (random, k-means, TypiClust), else random.
DEFAULT_SCHEDULE = (10, 20, 40, 80, 160, 320, 640, 1000)


def run_active_loop(pool: FeatureSet, test: FeatureSet, strategy: str,
                    schedule: Sequence[int] = DEFAULT_SCHEDULE, seed: int = 0,
                    num_classes: Optional[int] = None, teacher: str = 'linear',
                    thresholds: Optional[Dict[str, float]] = None,
                    log: Optional[Callable[[str], None]] = None,
                    max_clusters: int = MAX_CLUSTERS) -> List[Dict[str, float]]:
    """Run one strategy from ``schedule[0]`` labels up to ``schedule[-1]``.

    Args:
        pool: Features and true labels of the unlabelled pool (the training split).
        test: Features and labels of the untouched test split.
        strategy: A name of :data:`STRATEGIES` (also used for the first round
            where it needs no teacher).
        schedule: Label counts after each round, increasing.
        seed: Seed of the first draw, the strategy and the teacher.
        num_classes: Classes (default: from the labels).
        teacher: ``'linear'`` or ``'knn'`` (the classifier measured each round).
        thresholds: For threshold strategies.
        max_clusters: TypiClust's cap on its ``L + B`` clusters (the authors': 500).

    Returns:
        One row per round: ``dict(labels, top1, top5, select_s, train_s, classes_seen)``.
    """
    check_strategy(strategy)
    schedule = [int(b) for b in schedule]
    if any(b <= a for a, b in zip(schedule, schedule[1:])) or schedule[0] < 1:
        raise ValueError(f'the label schedule must increase from >= 1, got {schedule}')
    if schedule[-1] > len(pool):
        raise ValueError(f'the schedule ends at {schedule[-1]} labels, more than the '
                         f'{len(pool)} pool images')
    num_classes = num_classes or int(max(pool.labels.max(), test.labels.max())) + 1
    cold = strategy if not set(STRATEGIES[strategy]) & {'probs'} else 'random'
    tick = time.perf_counter()
    first = select(cold, schedule[0], len(pool), np.zeros(0, dtype=np.int64),
                   embeddings=pool.features, seed=seed, max_clusters=max_clusters)
    labelled = first.indices
    select_s = time.perf_counter() - tick
    rows: List[Dict[str, float]] = []
    for round_no, target in enumerate(schedule):
        tick = time.perf_counter()
        model = train_teacher(teacher, FeatureSet(pool.features[labelled], pool.labels[labelled]),
                              num_classes, test, seed=seed)
        train_s = time.perf_counter() - tick
        rows.append(dict(labels=int(len(labelled)), top1=float(model.top1), top5=float(model.top5),
                         select_s=round(select_s, 3), train_s=round(train_s, 3),
                         classes_seen=int(len(np.unique(pool.labels[labelled])))))
        if log is not None:
            log(f'{strategy} seed {seed}: {len(labelled)} labels, top-1 {model.top1:.2f} '
                f'(select {select_s:.1f} s, train {train_s:.1f} s)')
        if round_no + 1 == len(schedule):
            break
        tick = time.perf_counter()
        needs = STRATEGIES[strategy]
        probs = model.probabilities(pool.features) if 'probs' in needs else None
        picked = select(strategy, schedule[round_no + 1] - len(labelled), len(pool), labelled,
                        probs=probs, embeddings=pool.features, seed=seed + 1000 * (round_no + 1),
                        thresholds=thresholds, max_clusters=max_clusters)
        labelled = np.concatenate([labelled, picked.indices])  # labels revealed: pool.labels
        select_s = time.perf_counter() - tick
    return rows


def summarise(runs: Dict[str, List[List[Dict[str, float]]]]) -> Dict[str, List[Dict[str, float]]]:
    """Mean and std (over seeds) of top-1 per round for each strategy."""
    out = {}
    for strategy, seeds in runs.items():
        rows = []
        for round_rows in zip(*seeds):
            top1 = np.array([r['top1'] for r in round_rows])
            rows.append(dict(labels=round_rows[0]['labels'], mean=float(top1.mean()),
                             std=float(top1.std(ddof=1)) if len(top1) > 1 else 0.0,
                             n=len(top1)))
        out[strategy] = rows
    return out
