"""benchmarks/scripts/ablation_statistics.py: points read from committed run summaries,
comparisons checked against scipy, and the committed statistics page rebuilt byte for byte."""
import json

import pytest
from scipy import stats

from tests.conftest import REPO_ROOT
from tests.helpers.scripts import load_script

ABLATIONS = REPO_ROOT / 'benchmarks' / 'results' / 'ablations'


@pytest.fixture(scope='module')
def script():
    return load_script('ablation_statistics')


def _runs(folder, rows):
    (folder / 'k_runs.json').write_text(json.dumps([
        dict(run_id=f'queue_len={k}_seed{seed}', values={'model.queue_len': k}, seed=seed,
             knn_top1=v) for k, seed, v in rows]))


def test_a_point_is_the_matching_runs_in_seed_order(script, tmp_path):
    _runs(tmp_path, [(256, 1, 41.0), (4096, 0, 39.0), (256, 0, 40.0), (256, 2, 42.5)])
    point = {'runs': 'k_runs.json', 'values': {'model.queue_len': 256}}
    assert script.resolve(point, str(tmp_path)) == ([40.0, 41.0, 42.5], 'k_runs.json')
    assert script.resolve([1, 2.5], str(tmp_path)) == ([1.0, 2.5], 'per_seed.json')
    with pytest.raises(ValueError, match=r"no run in k_runs.json has the values \{'model.queue_len': 64\}"):
        script.resolve({'runs': 'k_runs.json', 'values': {'model.queue_len': 64}}, str(tmp_path))


def test_the_page_compares_with_welch_and_one_sample_t(script, tmp_path):
    _runs(tmp_path, [(256, 0, 43.0), (256, 1, 44.0), (256, 2, 43.6), (4096, 0, 41.0),
                     (4096, 1, 41.8)])
    data = dict(about='test', points={
        'K=256': {'runs': 'k_runs.json', 'values': {'model.queue_len': 256}},
        'K=4096': {'runs': 'k_runs.json', 'values': {'model.queue_len': 4096}},
        'random': [36.5]},
        comparisons=[['K=256', 'K=4096'], ['K=4096', 'random']],
        trend={'label': 'per doubling', 'points': {'256': 'K=256', '4096': 'K=4096'}})
    lines = script.page(data, str(tmp_path)).splitlines()
    welch = stats.ttest_ind([43.0, 44.0, 43.6], [41.0, 41.8], equal_var=False)
    low, high = welch.confidence_interval(0.95)
    row = next(ln for ln in lines if ln.startswith('| K=256 | K=4096 |'))
    assert row == (f'| K=256 | K=4096 | +2.13 | [{low:+.2f}, {high:+.2f}] | {welch.pvalue:.3f} | '
                   + ('**finding**: the interval excludes 0 |' if low > 0 else
                      'no difference detected at n = 2 |'))
    one = stats.ttest_1samp([41.0, 41.8], 36.5)
    low, high = one.confidence_interval(0.95)
    row = next(ln for ln in lines if ln.startswith('| K=4096 | random |'))
    assert row.startswith(f'| K=4096 | random | +4.90 | [{low - 36.5:+.2f}, {high - 36.5:+.2f}] | '
                          f'{one.pvalue:.3f} |')
    assert '| K=256 | 3 | 43.53 |' in '\n'.join(lines)
    assert '[k_runs.json](k_runs.json) |' in next(ln for ln in lines if ln.startswith('| K=256 | 3'))
    # 5 runs at log2 K = 8 and 12: slope = (41.4 - 43.53) / 4 per doubling
    fit = stats.linregress([8, 8, 8, 12, 12], [43.0, 44.0, 43.6, 41.0, 41.8])
    assert f'**{fit.slope:+.2f} points per doubling**' in '\n'.join(lines)


def test_the_committed_statistics_page_rebuilds_byte_for_byte(script):
    with open(ABLATIONS / 'per_seed.json', encoding='utf-8') as f:
        data = json.load(f)
    assert script.page(data) == (ABLATIONS / 'statistics.md').read_text(encoding='utf-8')
