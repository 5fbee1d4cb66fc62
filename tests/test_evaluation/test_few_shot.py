"""Few-shot episodes: perfect on separable features, chance on random ones, seeded."""
import numpy as np
import pytest

from moco_plugin.evaluation.few_shot import (few_shot_episodes, few_shot_full_test,
                                             prototype_predict, sample_episode)


def _separable(classes=8, per_class=30, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:classes] * 10
    labels = np.repeat(np.arange(classes), per_class)
    return centres[labels] + rng.normal(scale=0.1, size=(len(labels), dim)), labels


@pytest.mark.parametrize('classifier', ['prototype', 'logistic'])
def test_separable_features_are_classified_perfectly(classifier):
    features, labels = _separable()
    result = few_shot_episodes(features, labels, n_way=5, k_shot=1, n_query=5, episodes=50,
                               classifier=classifier)
    assert result.mean == 100.0 and result.ci95 == 0.0


def test_random_features_are_at_chance_within_the_interval():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(800, 32))
    labels = np.repeat(np.arange(10), 80)
    result = few_shot_episodes(features, labels, n_way=5, k_shot=5, n_query=15, episodes=600)
    assert abs(result.mean - 20.0) <= 2 * result.ci95
    # Binomial hand computation: 1.96 * 100 * sqrt(0.2 * 0.8 / 75) / sqrt(600) = 0.370
    assert result.ci95 == pytest.approx(0.370, abs=0.05)


def test_episodes_are_seeded_and_disjoint():
    labels = np.repeat(np.arange(6), 20)
    a = sample_episode(labels, 3, 2, 4, np.random.default_rng(7))
    b = sample_episode(labels, 3, 2, 4, np.random.default_rng(7))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    support, support_y, query, query_y = a
    assert not set(support) & set(query)
    assert np.bincount(support_y).tolist() == [2, 2, 2] and np.bincount(query_y).tolist() == [4, 4, 4]
    # every image of an episode class is relabelled consistently
    for episode_label in range(3):
        assert len(set(labels[support[support_y == episode_label]])) == 1


def test_prototype_is_the_nearest_class_mean_by_cosine():
    support = np.array([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0]])
    predicted = prototype_predict(support, np.array([0, 0, 1]), np.array([[0.6, 0.4], [0.2, 0.9]]), 2)
    assert predicted.tolist() == [0, 1]


def test_too_few_images_per_class_is_a_one_line_error():
    with pytest.raises(ValueError, match='need 5 classes of at least 20 images'):
        few_shot_episodes(*_separable(classes=8, per_class=10), n_way=5, k_shot=5, n_query=15)


def test_full_test_mode_uses_all_classes():
    features, labels = _separable(classes=4, per_class=20)
    result = few_shot_full_test(features, labels, features, labels, k_shot=1, seeds=[0, 1])
    assert result.n_way == 4 and result.accuracies.tolist() == [100.0, 100.0]
