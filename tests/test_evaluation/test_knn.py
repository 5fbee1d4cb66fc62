"""Weighted k-NN: hand computations, ties, top-5, and any number of queries."""
import math

import numpy as np
import pytest
import torch

from moco_plugin.evaluation.knn import knn_classify, rank_classes, weighted_vote

# Unit vectors in 2-D; cosine similarity with the query (1, 0) is the first coordinate.
BANK = np.array([[1.0, 0.0],     # class 0, sim 1.0
                 [0.8, 0.6],     # class 1, sim 0.8
                 [0.6, 0.8],     # class 2, sim 0.6
                 [0.0, 1.0],     # class 1, sim 0.0
                 [-1.0, 0.0]])   # class 3, sim -1.0
BANK_LABELS = np.array([0, 1, 2, 1, 3])
QUERY = np.array([[2.0, 0.0]])  # not unit length: must be normalised


def test_weighted_vote_by_hand_depends_on_k():
    # T = 1, k = 3: class 0 gets e^1 = 2.718, class 1 e^0.8 = 2.226, class 2 e^0.6 = 1.822 -> 0 wins.
    k3 = knn_classify(BANK, BANK_LABELS, QUERY, np.array([1]), ks=[3, 4], temperature=1.0,
                      num_classes=6)
    assert k3[3]['top1'] == 0.0
    # k = 4 adds the class-1 neighbour at sim 0: class 1 = e^0.8 + e^0 = 3.226 > 2.718 -> 1 wins.
    assert k3[4]['top1'] == 100.0
    assert k3[3]['top5'] == k3[4]['top5'] == 100.0


def test_weighted_vote_scores_equal_hand_values():
    scores = weighted_vote(np.array([[1.0, 0.8, 0.6, 0.0]]), np.array([[0, 1, 2, 1]]), 4, 1.0)
    # Weights are scaled by exp(-max sim / T) = e^-1 per query; ratios are what matter.
    expected = np.array([math.e, math.exp(0.8) + 1.0, math.exp(0.6), 0.0]) / math.e
    np.testing.assert_allclose(scores[0], expected, rtol=1e-12)


def test_low_temperature_does_not_overflow_and_favours_the_nearest():
    scores = weighted_vote(np.array([[1.0, 0.99, 0.98]]), np.array([[0, 1, 1]]), 2, 1e-4)
    assert np.isfinite(scores).all() and rank_classes(scores)[0, 0] == 0


def test_class_score_ties_go_to_the_lowest_class_index():
    bank = np.array([[0.6, 0.8], [0.6, -0.8]])  # both at sim 0.6 from (1, 0)
    labels = np.array([2, 1])
    query = np.array([[1.0, 0.0], [1.0, 0.0]])
    result = knn_classify(bank, labels, query, np.array([1, 2]), ks=[2], temperature=0.1,
                          num_classes=3)[2]
    # Classes 1 and 2 tie: class 1 is predicted, so only the first query is right at top-1.
    assert result['top1'] == 50.0 and result['top5'] == 100.0


def test_top5_ranks_unvoted_classes_after_voted_ones_by_index():
    # One neighbour of class 7 among 10 classes: ranking 7, 0, 1, 2, 3.
    bank, labels = np.array([[1.0, 0.0]]), np.array([7])
    queries = np.array([[1.0, 0.0]] * 3)
    truth = np.array([7, 3, 4])
    result = knn_classify(bank, labels, queries, truth, ks=[1], num_classes=10)[1]
    assert result['top1'] == pytest.approx(100 / 3)
    assert result['top5'] == pytest.approx(200 / 3)  # 7 and 3 are in the top 5, 4 is not


def test_single_query():
    result = knn_classify(BANK, BANK_LABELS, QUERY, np.array([0]), ks=[1, 200])
    assert result[1] == dict(top1=100.0, top5=100.0, k_used=1)
    assert result[200]['k_used'] == len(BANK)


def _reference_knn(bank, bank_labels, queries, labels, k, t, num_classes):
    """The MoCo CIFAR-10 demo's knn_predict (torch.topk + scatter + exp(sim / T))."""
    bank = torch.nn.functional.normalize(torch.as_tensor(bank, dtype=torch.float64), dim=1)
    queries = torch.nn.functional.normalize(torch.as_tensor(queries, dtype=torch.float64), dim=1)
    sim = queries @ bank.T
    weights, idx = sim.topk(k=min(k, len(bank)), dim=-1)
    one_hot = torch.zeros(len(queries) * idx.shape[1], num_classes, dtype=torch.float64)
    one_hot.scatter_(1, torch.as_tensor(bank_labels)[idx].view(-1, 1), 1.0)
    scores = (one_hot.view(len(queries), -1, num_classes) * (weights / t).exp().unsqueeze(-1)).sum(1)
    pred = torch.from_numpy(rank_classes(scores.numpy()))
    target = torch.as_tensor(labels).view(-1, 1)
    return (100.0 * (pred[:, :1] == target).any(1).double().mean().item(),
            100.0 * (pred[:, :5] == target).any(1).double().mean().item())


def test_more_queries_than_bank_and_chunking_match_the_reference():
    rng = np.random.default_rng(0)
    bank, bank_labels = rng.normal(size=(7, 16)), rng.integers(0, 10, 7)
    queries, labels = rng.normal(size=(50, 16)), rng.integers(0, 10, 50)
    one_pass = knn_classify(bank, bank_labels, queries, labels, ks=[3, 200], num_classes=10)
    chunked = knn_classify(bank, bank_labels, queries, labels, ks=[3, 200], num_classes=10,
                           query_chunk=7)
    assert one_pass == chunked
    assert one_pass[200]['k_used'] == 7
    for k in (3, 200):
        top1, top5 = _reference_knn(bank, bank_labels, queries, labels, k, 0.1, 10)
        assert one_pass[k]['top1'] == pytest.approx(top1)
        assert one_pass[k]['top5'] == pytest.approx(top5)


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match='k values'):
        knn_classify(BANK, BANK_LABELS, QUERY, np.array([0]), ks=[0])
    with pytest.raises(ValueError, match='same feature size'):
        knn_classify(BANK, BANK_LABELS, np.ones((1, 3)), np.array([0]))
    with pytest.raises(ValueError, match='at least one query'):
        knn_classify(BANK, BANK_LABELS, np.zeros((0, 2)), np.zeros(0, dtype=int))
