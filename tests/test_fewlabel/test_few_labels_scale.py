"""benchmarks/scripts/few_labels_scale.py at a tiny scale (the full run: benchmarks/results/few_labels/scale.md)."""
import json

import pytest

from tests.helpers.scripts import load_script

TINY = ['--n', '3000', '--dim', '16', '--classes', '20', '--budget', '60', '--noise', '0.5']


@pytest.fixture(scope='module')
def scale():
    return load_script('few_labels_scale')


def test_every_strategy_is_timed_measured_and_checked(scale, tmp_path, capsys):
    out = tmp_path / 'scale.json'
    scale.main(TINY + ['--in-process', '--short-kmeans', '2', '--out', str(out)])
    rows = {r['strategy']: r for r in json.loads(out.read_text())['rows']}
    assert set(rows) == set(scale.STRATEGIES + scale.EXTRA)
    for name, row in rows.items():
        assert row['n'] == 3000 and row['peak_rss_mib'] >= row['inputs_rss_mib'] > 0
        assert row['seconds'] >= 0 and row['tracemalloc_peak_mib'] >= 0
        if name not in ('pseudo_label', 'teacher'):
            assert row['picked'] == 60
    assert rows['pseudo_label']['picked'] <= 60 and 0 <= rows['pseudo_label']['precision'] <= 1
    # 20 labelled + 60 picks in 80 clusters for typiclust-all, 500 (capped at 80) for typiclust
    assert rows['typiclust-all']['kmeans']['k'] == 80 and rows['kmeans']['kmeans']['k'] == 60
    assert rows['kmeans']['kmeans']['iterations'] == 2
    assert rows['kmeans']['seconds_at_20_iterations'] >= rows['kmeans']['seconds']
    assert rows['kmeans']['cpu_s_at_20_iterations'] >= rows['kmeans']['cpu_s']
    # clustered data: k-means (60 clusters) covers every true cluster; TypiClust (80 clusters,
    # 60 picks, the largest clusters first) splits the big classes and misses a few rare ones
    assert rows['kmeans']['classes_covered'] == 20
    assert 15 <= rows['typiclust']['classes_covered'] < 20
    assert '| typiclust-all |' in capsys.readouterr().out


def test_a_worker_process_reports_its_own_memory(scale, tmp_path):
    out = tmp_path / 'scale.json'
    scale.main(TINY + ['--strategies', 'random', '--out', str(out)])
    row, = json.loads(out.read_text())['rows']
    assert row['strategy'] == 'random' and row['picked'] == 60
    assert row['peak_rss_mib'] >= row['inputs_rss_mib'] > 0 and row['cpu_s'] >= 0
