"""Choosing the linear-probe lr on a held-out part of the training split."""
import dataclasses

import numpy as np
import pytest

from moco_plugin.evaluation import FeatureSet, LinearProbeSettings, linear_probe_on_features
from moco_plugin.evaluation.linear_lr_sweep import holdout_split, sweep_linear_lr


def _clusters(n_per_class: int, noise: float, seed: int = 0, dim: int = 16,
              classes: int = 4) -> FeatureSet:
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(7).uniform(0, 2, size=(classes, dim))
    labels = np.repeat(np.arange(classes), n_per_class)
    features = np.maximum(centres[labels] + noise * rng.normal(size=(len(labels), dim)), 0)
    return FeatureSet(features.astype(np.float32), labels)


def test_holdout_split_is_a_seeded_stratified_partition():
    labels = np.array([0] * 10 + [1] * 20 + [2] * 3)
    fit, held = holdout_split(labels, 0.25, seed=3)
    assert sorted(np.concatenate([fit, held]).tolist()) == list(range(len(labels)))
    # round(0.25 * count) per class, at least 1 and never the whole class
    assert [int((labels[held] == c).sum()) for c in range(3)] == [2, 5, 1]
    again, _ = holdout_split(labels, 0.25, seed=3)
    other, _ = holdout_split(labels, 0.25, seed=4)
    assert np.array_equal(fit, again) and not np.array_equal(fit, other)
    with pytest.raises(ValueError, match='at least 2 per class'):
        holdout_split(np.array([0, 0, 1]), 0.5)
    with pytest.raises(ValueError, match=r'in \(0, 1\)'):
        holdout_split(labels, 1.0)


def test_sweep_scores_each_lr_on_the_held_out_part_and_picks_the_best():
    train = _clusters(40, noise=0.6)
    settings = LinearProbeSettings(epochs=3, batch_size=32, seed=5)
    sweep = sweep_linear_lr(train, [1e-5, 1e38, 1.0], settings, val_fraction=0.25,
                            progress=False)
    assert (sweep.n_fit, sweep.n_val) == (120, 40)
    assert sweep.val_top1[1] is None  # lr 1e38 overflows: recorded as diverged, not fatal
    assert sweep.val_top1[2] > sweep.val_top1[0]
    assert sweep.selected_lr == 1.0
    # Each score is exactly a probe trained on the fit part and evaluated on the held-out part.
    fit, held = holdout_split(train.labels, 0.25, seed=5)
    by_hand = linear_probe_on_features(
        FeatureSet(train.features[fit], train.labels[fit]),
        FeatureSet(train.features[held], train.labels[held]),
        dataclasses.replace(settings, lr=1e-5), num_classes=4, progress=False)
    assert sweep.val_top1[0] == by_hand.top1


def test_ties_go_to_the_smaller_lr_and_all_diverged_is_an_error():
    easy = _clusters(20, noise=0.01)
    settings = LinearProbeSettings(epochs=5, batch_size=16)
    sweep = sweep_linear_lr(easy, [3.0, 1.0], settings, val_fraction=0.25, progress=False)
    assert sweep.val_top1 == [100.0, 100.0] and sweep.selected_lr == 1.0
    with pytest.raises(RuntimeError, match='diverged for every lr'):
        sweep_linear_lr(easy, [1e38], settings, val_fraction=0.25, progress=False)
