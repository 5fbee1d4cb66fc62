"""The torch k-NN (matmul + top-k, for the GPU) against the faiss k-NN on the CPU."""
import numpy as np
import pytest
import torch

from moco_plugin.evaluation import KNNMonitorHook
from moco_plugin.evaluation.knn import knn_classify
from moco_plugin.evaluation.knn_torch import knn_classify_torch, resolve_knn_backend
from tests.test_evaluation.test_knn import BANK, BANK_LABELS, QUERY


def clustered(n, classes=7, dim=24, seed=0, spread=1.6):
    """Features around one centre per class, overlapping enough that k and T matter."""
    centres = np.random.default_rng(0).normal(size=(classes, dim))  # shared by bank and queries
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    return (centres[labels] + spread * rng.normal(size=(n, dim))).astype(np.float32), labels


def test_equals_faiss_on_a_fixed_set_for_several_k_and_chunks():
    bank, bank_labels = clustered(600, seed=1)
    queries, query_labels = clustered(150, seed=2)
    ks = [1, 5, 20, 200, 1000]  # 1000 > bank: capped
    want = knn_classify(bank, bank_labels, queries, query_labels, ks, temperature=0.07)
    for chunk in (None, 7):
        got = knn_classify_torch(bank, bank_labels, queries, query_labels, ks, temperature=0.07,
                                 query_chunk=chunk)
        assert got == want
    assert 30 < want[20]['top1'] < 95 and want[1000]['k_used'] == 600  # not a trivial set
    # tensors in, any device: same numbers
    tensors = [torch.from_numpy(a) for a in (bank, bank_labels, queries, query_labels)]
    assert knn_classify_torch(*tensors, ks=ks, temperature=0.07) == want


def test_hand_example_and_class_ties_as_faiss():
    for ks, temperature, classes in (([3, 4], 1.0, 6), ([2], 1e-4, 4)):
        want = knn_classify(BANK, BANK_LABELS, QUERY, np.array([1]), ks, temperature, classes)
        assert knn_classify_torch(BANK, BANK_LABELS, QUERY, np.array([1]), ks, temperature,
                                  classes) == want
    assert knn_classify_torch(BANK, BANK_LABELS, QUERY, np.array([1]), [3, 4], 1.0, 6)[4]['top1'] == 100.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match='labelled data'):
        knn_classify_torch(BANK, -np.ones(5), QUERY, np.array([1]))
    with pytest.raises(ValueError, match='same feature size'):
        knn_classify_torch(BANK, BANK_LABELS, np.ones((1, 3)), np.array([1]))
    with pytest.raises(ValueError, match='k values'):
        knn_classify_torch(BANK, BANK_LABELS, QUERY, np.array([1]), ks=[0])


def test_backend_choice():
    assert resolve_knn_backend('auto', 'cpu') == 'faiss'
    assert resolve_knn_backend('auto', torch.device('cuda', 0)) == 'torch'
    assert resolve_knn_backend('torch', 'cpu') == 'torch'
    with pytest.raises(ValueError, match="'auto', 'faiss' or 'torch'"):
        KNNMonitorHook(backend='gpu')
