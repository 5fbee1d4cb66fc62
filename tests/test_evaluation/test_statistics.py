"""evaluation/statistics.py: t-intervals and Welch's test on fixed numbers, against scipy."""
import math

import pytest
from scipy import stats

from moco_plugin.evaluation.statistics import summarize, welch_interval, welch_test


def test_two_values_give_the_student_t_interval_with_one_degree_of_freedom():
    s = summarize([1.0, 3.0])
    # std = sqrt(2); half-width = t(0.975, 1) * sqrt(2) / sqrt(2) = 12.7062...
    assert (s.n, s.mean) == (2, 2.0) and s.std == pytest.approx(math.sqrt(2))
    assert s.half_width == pytest.approx(12.706204736174698)
    assert (s.low, s.high) == pytest.approx((2 - 12.706204736174698, 2 + 12.706204736174698))


def test_three_values_match_scipys_interval():
    values = [40.1, 40.9, 41.3]
    s = summarize(values)
    low, high = stats.t.interval(0.95, 2, loc=stats.tmean(values), scale=stats.sem(values))
    assert (s.low, s.high) == pytest.approx((low, high))
    assert summarize([1.0, 2.0, 3.0]).half_width == pytest.approx(4.302652729911275 / math.sqrt(3))
    assert summarize([1.0, 2.0, 3.0], confidence=0.9).half_width == pytest.approx(
        2.919985580355516 / math.sqrt(3))


def test_one_value_has_no_spread_and_no_interval():
    s = summarize([12.5])
    assert (s.n, s.mean, s.std, s.low, s.high) == (1, 12.5, None, None, None)
    assert not s.excludes(0.0)
    with pytest.raises(ValueError, match='at least one'):
        summarize([])


def test_interval_excludes_a_value_only_when_it_lies_outside():
    s = summarize([1.0, 2.0, 3.0])  # 2 +- 2.48
    assert not s.excludes(0.0) and s.excludes(-0.5) and s.excludes(4.5)


def test_welch_p_value_on_fixed_numbers_and_against_scipy():
    # means 2 and 6, variances 1 and 4: t = -4 / sqrt(5/3), Welch df = 50/17
    difference, p = welch_test([1, 2, 3], [4, 6, 8])
    assert difference == -4.0
    assert p == pytest.approx(2 * stats.t.sf(4 / math.sqrt(5 / 3), 50 / 17))
    assert p == pytest.approx(0.054786766, abs=1e-8)
    a, b = [40.48, 40.52], [40.40, 40.46]
    assert welch_test(a, b)[1] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert welch_test(a, b)[0] == pytest.approx(0.07)


def test_welch_is_undefined_without_two_values_or_any_spread():
    assert welch_test([1.0], [2.0, 3.0]) == (-1.5, None)
    assert welch_test([1.0, 1.0], [2.0, 2.0]) == (-1.0, None)


def test_welch_interval_matches_scipy_and_a_hand_computation():
    a, b = [40.83, 41.27, 41.02], [40.69, 40.16]
    low, high = welch_interval(a, b)
    expected = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (low, high) == pytest.approx((expected.low, expected.high), rel=1e-12)
    # by hand: Welch-Satterthwaite df, t quantile, standard error of the difference
    va, vb = stats.tvar(a) / 3, stats.tvar(b) / 2
    df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 1)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    diff = sum(a) / 3 - sum(b) / 2
    assert (low, high) == pytest.approx((diff - half, diff + half), rel=1e-12)
    assert low < diff < high


def test_welch_interval_is_undefined_where_the_test_is():
    assert welch_interval([1.0], [2.0, 3.0]) is None
    assert welch_interval([1.0, 1.0], [2.0, 2.0]) is None
