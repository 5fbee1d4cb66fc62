"""benchmarks/scripts/few_labels_statistics.py: the few-labels page's intervals, checked
against scipy on fixed per-seed numbers."""

import pytest
from scipy import stats

from tests.helpers.scripts import load_script


@pytest.fixture(scope='module')
def statistics_script():
    return load_script('few_labels_statistics')


def _cells(row):
    return [c.strip() for c in row.strip('|').split('|')]


def test_unpaired_rows_are_welch_and_paired_rows_are_t_on_differences(statistics_script):
    a, b = [37.3, 35.8, 36.7], [25.9, 26.6, 25.2]
    cells = _cells(statistics_script.unpaired('v2 - random', a, b))
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert cells[:3] == ['v2 - random', '3 vs 3', f'{sum(a) / 3 - sum(b) / 3:+.2f}']
    assert cells[4] == f'{p:.2g}' and cells[5] == 'finding'
    with_, without = [36.8, 35.5, 36.0], [37.3, 35.8, 36.7]  # the same label draws
    cells = _cells(statistics_script.paired('with - without', with_, without))
    differences = [x - y for x, y in zip(with_, without)]
    half = stats.t.ppf(0.975, 2) * stats.tstd(differences) / 3 ** 0.5
    mean = sum(differences) / 3
    assert cells[3] == f'[{mean - half:+.2f}, {mean + half:+.2f}]'
    assert cells[4] == f'{stats.ttest_1samp(differences, 0).pvalue:.2g}'
    # the unpaired test on the same numbers sees no difference: pairing is what finds it
    assert _cells(statistics_script.unpaired('x', with_, without))[5] == 'no difference detected'
    assert cells[5] == 'finding'


def test_the_page_covers_every_part_of_a_study_result(statistics_script):
    runs = lambda *v: {'runs': list(v)}  # noqa: E731
    result = {
        'budgets': {'mocov2': {'linear': {'10': runs(20.0, 21.0, 22.0)}},
                    'random': {'linear': {'10': runs(14.0, 15.0, 13.0)}}},
        'pseudo': {'students': {'mocov1': [dict(base=36.0, student=37.0), dict(base=35.0, student=35.5),
                                           dict(base=37.0, student=37.9)]}},
        'finetune': {'runs': [dict(model='mocov2', kind=k, labels=250, pseudo=p, seed=s, top1=t)
                              for k, p, s, t in (('finetune', False, 0, 30.0), ('linear', False, 0, 37.0),
                                                 ('finetune', False, 1, 31.0), ('linear', False, 1, 36.5),
                                                 ('finetune', True, 0, 33.0))]},
        'active': {'mocov2': {'runs': {
            'random': [[dict(labels=10, top1=16.0)], [dict(labels=10, top1=17.0)]],
            'typiclust': [[dict(labels=10, top1=19.0)], [dict(labels=10, top1=18.5)]]}}}}
    page = statistics_script.page(result, 'few_labels.json')
    for heading in ('## Label budgets', '## Pseudo-labels', '## Fine-tuning', '## Active selection'):
        assert heading in page
    assert '| mocov2 - random init, linear, 10 labels | 3 vs 3 | +7.00 |' in page
    assert '| mocov2: fine-tune - linear probe, 250 labels (paired) | 2 | -6.25 |' in page
    # one seed with pseudo-labels: reported, without an interval
    assert '| mocov2: fine-tune with - without pseudo-labels, 250 labels (paired) | 1 | +3.00 | - | - |' in page
    assert '| mocov2: typiclust - random, 10 labels | 2 vs 2 | +2.25 |' in page
