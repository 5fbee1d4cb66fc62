"""k-means diversity and TypiClust against hand computations and the authors' algorithm."""
import numpy as np
import pytest

import moco_plugin.fewlabel.diversity as diversity
import moco_plugin.fewlabel.typiclust as typiclust_module
from moco_plugin.fewlabel import diversity_picks, select, typicality, typiclust_picks


def test_diversity_picks_fill_uses_each_candidates_own_distance(monkeypatch):
    # Regression: the fill looked distances up with np.searchsorted on the candidates, which
    # the hybrid passes in score order, not sorted: wrong picks (or an IndexError).
    # 1-d points; clusters 0 and 2 are used, cluster 1 stays empty.
    x = np.array([[0.0], [1.0], [3.0], [10.0], [12.0], [17.0]], dtype=np.float32)
    candidates = np.array([5, 2, 4, 0, 3, 1])  # score order, not sorted

    def fake(points, k, seed=0, iterations=20, fit_points=None):
        assert k == 3 and points[:, 0].tolist() == [17, 3, 12, 0, 10, 1]
        assignment = np.array([2, 0, 2, 0, 2, 0])
        centroids = np.array([[1.0], [50.0], [11.0]], dtype=np.float32)
        return centroids, assignment, (points[:, 0] - centroids[assignment, 0]) ** 2

    monkeypatch.setattr(diversity, 'kmeans_assign', fake)
    picks, clusters = diversity_picks(x, 3, candidates, normalize=False)
    # nearest of cluster 0 (centre 1): image 1; of cluster 2 (centre 11): 4 and 3 tie at
    # distance 1, the earlier candidate (4) wins; the fill is the farthest of the rest:
    # image 5 (distance 36), before 2 (4) and 0 (1).
    assert picks.tolist() == [1, 4, 5] and clusters.tolist() == [0, 2, -1]


def test_diversity_picks_on_repeated_images_in_score_order():
    # The hybrid's case end to end: 3 distinct images, each 4 times, candidates unsorted,
    # 5 clusters (at least 2 stay empty): 5 distinct candidates, the 3 images all covered.
    rng = np.random.default_rng(0)
    x = np.repeat(rng.normal(size=(3, 4)).astype(np.float32), 4, axis=0)
    candidates = np.array([11, 3, 7, 0, 9, 1, 5, 10, 2, 8, 6, 4])
    picks, _ = diversity_picks(x, 5, candidates, normalize=False)
    assert len(set(picks.tolist())) == 5 and set(picks.tolist()) <= set(candidates.tolist())
    assert set((picks // 4).tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match='repeat an index'):
        diversity_picks(x, 2, np.array([1, 1, 2]))


def test_kmeans_fits_on_a_sample_and_assigns_every_point():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, size=(4, 3))
    x = np.concatenate([rng.normal(c, 0.1, size=(500, 3)) for c in centres]).astype(np.float32)
    centroids, assignment, squared = diversity.kmeans_assign(x, 4, fit_points=40)
    assert len(assignment) == 2000 and diversity.fit_size(2000, 4, 40) == 40
    truth = np.repeat(np.arange(4), 500)
    assert all(len(np.unique(assignment[truth == c])) == 1 for c in range(4))  # blobs intact
    assert np.allclose(squared, ((x - centroids[assignment]) ** 2).sum(1), atol=1e-3)


def authors_typiclust(x, labelled, budget, assignment, min_size=5, k_nn=20):
    """deep-al/pycls/al/typiclust.py select_samples, transcribed (pandas -> numpy)."""
    labels = assignment.copy()
    ids, sizes = np.unique(labels, return_counts=True)
    existing = np.bincount(labels[labelled], minlength=ids.max() + 1)[ids]
    keep = sizes > min_size
    ids, sizes, existing = ids[keep], sizes[keep], existing[keep]
    order = ids[np.lexsort((-sizes, existing))]
    labels[labelled] = -1
    selected = []
    for i in range(budget):
        indices = np.flatnonzero(labels == order[i % len(order)])
        k = min(k_nn, len(indices) // 2)
        squared = ((x[indices, None, :].astype(np.float64) - x[None, indices]) ** 2).sum(-1)
        mean = np.sort(squared, axis=1)[:, 1:k + 1].mean(axis=1)
        selected.append(indices[np.argmax(1 / (mean + 1e-5))])
        labels[selected[-1]] = -1
    return selected


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_typiclust_equals_the_authors_algorithm_pick_for_pick(seed):
    # 6 clusters (one of 5 images: skipped), uneven sizes and labels, 3 rounds of picks:
    # the incremental typicality must give exactly the authors' per-pick recomputation.
    rng = np.random.default_rng(seed)
    sizes = [60, 45, 30, 25, 5, 40]
    x = np.concatenate([rng.normal(rng.normal(0, 4, 3), 1, size=(s, 3)) for s in sizes])
    x = x.astype(np.float32)
    assignment = np.repeat(np.arange(6), sizes)
    labelled = rng.choice(len(x), 12, replace=False)
    picks, values = typiclust_picks(x, labelled, 15, assignment=assignment, normalize=False)
    assert picks.tolist() == authors_typiclust(x, labelled, 15, assignment)
    assert not np.isin(picks, labelled).any() and not (assignment[picks] == 4).any()


def test_typicality_counts_unlabelled_members_only():
    # Cluster of 8 on a line, 0, 0.1, 0.2 labelled. Over all members, 0.5 (neighbours 0.2
    # and 0.1, both labelled) is the most typical unlabelled point: the old rule picked it.
    line = np.array([0, 0.1, 0.2, 0.5, 9, 10, 11, 12], dtype=np.float32)[:, None]
    labelled = np.array([0, 1, 2])
    assert int(np.argmax(np.where(np.arange(8) < 3, 0, typicality(line, 2)))) == 3
    picks, _ = typiclust_picks(line, labelled, 1, assignment=np.zeros(8, dtype=np.int64),
                               normalize=False)
    # unlabelled: 0.5, 9, 10, 11, 12; k = min(20, 5 // 2) = 2; mean squared distance:
    # 0.5 -> (8.5^2 + 9.5^2)/2, 9 -> (1 + 4)/2, 10 -> (1 + 1)/2, 11 -> 1, 12 -> (1 + 4)/2
    assert picks.tolist() == [5]


def test_typicality_is_recomputed_after_each_pick():
    # One cluster of 7 on a line, k = min(20, 7 // 2) = 3 (mean squared distances):
    # 1 -> {1.5, 0, 2}: (0.25 + 1 + 1)/3 = 0.75, the smallest; 1.5 is second (0.92).
    # After 1 is picked (6 left, k = 3): 1.5 -> {2, 0, 6}: 22.75/3; 2 -> {1.5, 0, 6}: 20.25/3;
    # 6 -> {6.5, 7, 2}: 17.25/3 = 5.75, the smallest: a typicality computed once would
    # have picked 1.5 second.
    line = np.array([0, 1, 1.5, 2, 6, 6.5, 7], dtype=np.float32)[:, None]
    picks, values = typiclust_picks(line, np.array([], dtype=np.int64), 2,
                                    assignment=np.zeros(7, dtype=np.int64), normalize=False)
    assert picks.tolist() == [1, 4]
    assert np.allclose(values, [1 / (0.75 + 1e-5), 1 / (5.75 + 1e-5)], rtol=1e-5)


def test_clusters_of_five_are_skipped_and_the_order_is_labelled_then_size():
    x = np.random.default_rng(0).normal(size=(27, 2)).astype(np.float32)
    assignment = np.repeat([0, 1, 2, 3], [5, 6, 9, 7])
    # cluster 0 (5 images) is skipped; 1 and 3 have no labels, 2 has one: 3 (7) then 1 (6),
    # then 2, then round robin back to 3
    picks, _ = typiclust_picks(x, np.array([11]), 4, assignment=assignment, normalize=False)
    assert assignment[picks].tolist() == [3, 1, 2, 3]
    # only tiny clusters: the authors' code fails (empty order); here they take part
    tiny = typiclust_picks(x[:10], np.array([], dtype=np.int64), 3,
                           assignment=np.repeat([0, 1], 5), normalize=False)[0]
    assert len(set(tiny.tolist())) == 3


def test_max_clusters_sets_the_kmeans_count(monkeypatch):
    seen = []
    real = typiclust_module.kmeans_assign

    def spy(x, k, seed=0, iterations=20, fit_points=None):
        seen.append(k)
        return real(x, k, seed, iterations, fit_points)

    monkeypatch.setattr(typiclust_module, 'kmeans_assign', spy)
    x = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
    chosen = select('typiclust', 20, 300, np.arange(10), embeddings=x, max_clusters=7)
    select('typiclust', 20, 300, np.arange(10), embeddings=x)
    assert seen == [7, 30] and chosen.info['max_clusters'] == 7
    with pytest.raises(ValueError, match='--max-clusters'):
        typiclust_picks(x, np.arange(3), 2, max_clusters=0)
