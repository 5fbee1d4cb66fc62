"""Uncertainty scores, thresholds and every strategy against hand computations."""
import math

import numpy as np
import pytest

from moco_plugin.fewlabel import (STRATEGIES, above_thresholds, diversity_picks, entropy,
                                  least_confidence, margin, select, top_ranked, typicality,
                                  typiclust_picks)

PROBS = np.array([
    [1.0, 0.0, 0.0, 0.0],      # certain
    [0.25, 0.25, 0.25, 0.25],  # uniform
    [0.7, 0.2, 0.1, 0.0],
    [0.4, 0.4, 0.1, 0.1],
    [0.7, 0.1, 0.1, 0.1],
])


def test_least_confidence_by_hand():
    # (1 - pmax) * C / (C - 1) with C = 4
    expected = [0.0, 1.0, 0.3 * 4 / 3, 0.6 * 4 / 3, 0.3 * 4 / 3]
    assert np.allclose(least_confidence(PROBS), expected)


def test_margin_by_hand():
    assert np.allclose(margin(PROBS), [0.0, 1.0, 1 - 0.5, 1 - 0.0, 1 - 0.6])


def test_entropy_by_hand():
    def h(p):
        return -sum(x * math.log(x) for x in p if x > 0) / math.log(4)
    assert np.allclose(entropy(PROBS), [h(p) for p in PROBS])
    assert entropy(PROBS)[0] == 0.0 and np.isclose(entropy(PROBS)[1], 1.0)


def test_scores_are_in_unit_interval_for_any_class_count():
    rng = np.random.default_rng(0)
    for c in (2, 10, 1000):
        p = rng.dirichlet(np.ones(c), size=50)
        for fn in (least_confidence, margin, entropy):
            s = fn(p)
            assert s.min() >= 0 and s.max() <= 1
        assert np.isclose(least_confidence(np.full((1, c), 1 / c))[0], 1.0)


def test_top_ranked_breaks_ties_by_lower_index():
    scores = np.array([0.5, 0.9, 0.5, 0.9, 0.1])
    assert top_ranked(scores, 3).tolist() == [1, 3, 0]
    assert top_ranked(scores, 2, candidates=np.array([4, 2, 0])).tolist() == [0, 2]


def test_thresholds_and_intersection_select_the_hand_computed_set():
    # least confidence >= 0.5: rows 1 (1.0), 3 (0.8); rows 2/4 have 0.4
    assert above_thresholds(PROBS, dict(least_confidence=0.5)).tolist() == [1, 3]
    # margin >= 0.5: rows 1 (1.0), 2 (0.5), 3 (1.0)
    assert above_thresholds(PROBS, dict(margin=0.5)).tolist() == [1, 2, 3]
    # normalised entropy of row 2 is 0.578, row 4 0.678, row 3 0.861
    assert above_thresholds(PROBS, dict(entropy=0.65)).tolist() == [1, 3, 4]
    both = above_thresholds(PROBS, dict(least_confidence=0.3, margin=0.5, entropy=0.65))
    assert both.tolist() == [1, 3]  # row 4: margin 0.4 fails; row 2: entropy fails
    assert above_thresholds(PROBS, dict(margin=0.5), candidates=[0, 3]).tolist() == [3]


@pytest.mark.parametrize('bad', [-0.1, 1.5])
def test_threshold_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match=r'threshold must be in \[0, 1\]'):
        above_thresholds(PROBS, dict(entropy=bad))


def test_threshold_strategy_draws_from_the_passing_set_and_fills_the_rest():
    chosen = select('intersection', 2, 5, labelled=[], probs=PROBS,
                    thresholds=dict(least_confidence=0.3, margin=0.5, entropy=0.65))
    assert sorted(chosen.indices.tolist()) == [1, 3]
    labelled_one = select('intersection', 2, 5, labelled=[1, 2], probs=PROBS,
                          thresholds=dict(least_confidence=0.3, margin=0.5, entropy=0.65))
    # only row 3 passes; the fill is the more uncertain of rows 0 and 4 by the mean score
    assert labelled_one.indices.tolist() == [3, 4] and labelled_one.info['filled'] == 1
    strict = select('margin-threshold', 3, 5, [], probs=PROBS, thresholds=dict(margin=0.99),
                    fill=False)
    assert strict.indices.tolist() == [1, 3]


def _clusters(seed=0, per=30, centres=((0, 0), (10, 0), (0, 10), (10, 10))):
    rng = np.random.default_rng(seed)
    points = [rng.normal(c, 0.5, size=(per, 2)) for c in centres]
    return np.concatenate(points).astype(np.float32) + 20  # away from the origin


def test_kmeans_diversity_picks_b_images_one_per_cluster():
    x = _clusters()
    picks, clusters = diversity_picks(x, 4, np.arange(len(x)), normalize=False)
    assert len(picks) == 4 and len(set(picks.tolist())) == 4
    assert len(set(clusters.tolist())) == 4
    assert sorted((picks // 30).tolist()) == [0, 1, 2, 3]  # one from each blob


def test_typicality_is_the_authors_inverse_mean_squared_distance():
    rng = np.random.default_rng(1)
    blob = rng.normal(0, 1.0, size=(60, 2)).astype(np.float32)
    squared = ((blob[:, None, :].astype(np.float64) - blob[None]) ** 2).sum(-1)
    nearest = np.sort(squared, axis=1)[:, 1:21]  # 20 neighbours, the point itself dropped
    expected = 1 / (nearest.mean(axis=1) + 1e-5)
    assert np.allclose(typicality(blob, neighbours=20), expected, rtol=1e-4)
    picks, values = typiclust_picks(blob + 50, np.array([], dtype=np.int64), 1,
                                    assignment=np.zeros(60, dtype=np.int64), normalize=False)
    assert picks.tolist() == [int(np.argmax(expected))]  # k = min(20, 60 // 2)
    assert np.isclose(values[0], expected.max(), rtol=1e-4)


def test_typiclust_covers_the_uncovered_cluster_first():
    x = _clusters()
    assignment = np.repeat(np.arange(4), 30)
    picks, _ = typiclust_picks(x, np.array([0, 30, 60]), 1, assignment=assignment,
                               normalize=False)
    assert 90 <= picks[0] < 120


@pytest.mark.parametrize('strategy', sorted(STRATEGIES))
def test_no_strategy_reselects_a_labelled_image(strategy):
    rng = np.random.default_rng(0)
    x = _clusters(per=25)
    probs = rng.dirichlet(np.ones(4), size=len(x))
    labelled = np.arange(0, 100, 3)
    chosen = select(strategy, 10, len(x), labelled, probs=probs, embeddings=x, seed=0,
                    thresholds=dict(least_confidence=0.2, margin=0.2, entropy=0.2))
    assert len(chosen.indices) == 10 and len(set(chosen.indices.tolist())) == 10
    assert not np.isin(chosen.indices, labelled).any()


def test_bad_strategy_and_budget_are_refused():
    with pytest.raises(ValueError, match='unknown strategy'):
        select('uncertainty', 2, 5, [], probs=PROBS)
    with pytest.raises(ValueError, match='budget 5 must be between 1 and the 4 unlabelled'):
        select('random', 5, 5, [0])


def test_active_loop_grows_by_the_schedule_without_relabelling():
    from moco_plugin.evaluation.feature_extraction import FeatureSet
    from moco_plugin.fewlabel import run_active_loop
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    features = rng.normal(size=(200, 8)).astype(np.float32)
    features[np.arange(200), labels] += 4.0  # separable classes
    pool, test = FeatureSet(features, labels), FeatureSet(features[::5], labels[::5])
    rows = run_active_loop(pool, test, 'margin', schedule=[4, 8, 16], seed=0, num_classes=4)
    assert [r['labels'] for r in rows] == [4, 8, 16]
    assert rows[-1]['top1'] > 50  # separable: the probe learns
    with pytest.raises(ValueError, match='must increase'):
        run_active_loop(pool, test, 'margin', schedule=[8, 4])


def test_active_loop_passes_max_clusters_to_typiclust(monkeypatch):
    """``--max-clusters`` reaches TypiClust in every round of the loop (it was fixed at 500)."""
    from moco_plugin.evaluation.feature_extraction import FeatureSet
    from moco_plugin.fewlabel import active_loop
    from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS
    seen = []
    real = active_loop.select

    def spy(*args, **kwargs):
        seen.append(kwargs.get('max_clusters'))
        return real(*args, **kwargs)

    monkeypatch.setattr(active_loop, 'select', spy)
    features = _clusters(per=20)
    pool = FeatureSet(features, np.repeat(np.arange(4), 20))
    active_loop.run_active_loop(pool, pool, 'typiclust', schedule=[4, 6, 8], seed=0,
                                num_classes=4, max_clusters=3)
    assert seen == [3, 3, 3]
    seen.clear()
    active_loop.run_active_loop(pool, pool, 'typiclust', schedule=[4, 6], seed=0, num_classes=4)
    assert seen == [MAX_CLUSTERS, MAX_CLUSTERS]


def test_active_learning_cli_takes_max_clusters():
    from moco_plugin.cli import active_learning
    base = ['--model', 'm', 'config.py', 'random', '--out-dir', 'out']
    assert active_learning.parse_args(base).max_clusters == 500
    assert active_learning.parse_args(base + ['--max-clusters', '2000']).max_clusters == 2000
    with pytest.raises(SystemExit):
        active_learning.parse_args(base + ['--max-clusters', '0'])
