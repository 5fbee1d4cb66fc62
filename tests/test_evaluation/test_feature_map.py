"""The t-SNE feature map: separated classes stay separated, legends name the classes."""
import json

import numpy as np
import pytest
from matplotlib import pyplot as plt

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.experiments import benchmark as benchmark_experiment
from moco_plugin.evaluation.feature_map import balanced_subset, plot_feature_map, tsne_map


def test_balanced_subset_takes_classes_in_turn():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 10)
    picked = labels[balanced_subset(labels, 9, seed=0)]
    assert sorted(np.bincount(picked).tolist()) == [3, 3, 3]
    assert np.bincount(labels[balanced_subset(labels, 15, seed=0)]).tolist() == [6, 3, 6]


def test_tsne_keeps_well_separated_classes_apart():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 32) * 10
    labels = np.repeat(np.arange(3), 30)
    features = (centres[labels] + rng.normal(0, 0.3, (90, 32))).astype(np.float32)
    points, kept = tsne_map(features, labels, count=60)
    assert points.shape == (60, 2) and np.bincount(kept).tolist() == [20, 20, 20]
    means = np.stack([points[kept == c].mean(0) for c in range(3)])
    spread = max(np.linalg.norm(points[kept == c] - means[c], axis=1).max() for c in range(3))
    gaps = [np.linalg.norm(means[a] - means[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
    assert min(gaps) > 2 * spread  # each class is its own island


def _legend_of_saved_figure(monkeypatch):
    seen = {}
    close = plt.close

    def keep(fig=None):
        seen['legend'] = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
        close(fig)
    monkeypatch.setattr(plt, 'close', keep)
    return seen


def test_legend_names_the_classes(tmp_path, monkeypatch):
    seen = _legend_of_saved_figure(monkeypatch)
    points, labels = np.zeros((4, 2), np.float32), np.array([0, 1, 1, 2])
    plot_feature_map([('a', points, labels)], str(tmp_path / 'm.png'), ['cat', 'dog', 'ship'])
    assert seen['legend'] == ['cat', 'dog', 'ship'] and (tmp_path / 'm.png').stat().st_size > 1000


def test_compare_draws_the_maps_with_the_datasets_class_names(tmp_path, monkeypatch):
    seen = _legend_of_saved_figure(monkeypatch)
    monkeypatch.setattr(benchmark_experiment, 'write_comparison', lambda *a, **k: '')
    paths = []
    for name in ('random', 'moco'):
        result = dict(algorithm='MoCo', name=name, dataset=dict(classes=['cat', 'dog']),
                      feature_map=dict(points=[[0, 0], [1, 1]], labels=[0, 1]))
        paths.append(tmp_path / f'{name}.json')
        paths[-1].write_text(json.dumps(result))
    with pytest.raises(SystemExit) as exit_info:
        benchmark_cli.main(['--compare', *map(str, paths), '--out', str(tmp_path / 'c.md')])
    assert exit_info.value.code == 0
    assert (tmp_path / 'c_feature_maps.png').is_file() and seen['legend'] == ['cat', 'dog']
