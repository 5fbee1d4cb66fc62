"""Statistics of repeated runs: mean, std, Student-t interval and Welch's t-test.

Seeds of one sweep point are few (2-5), so the 95 % interval of the mean uses Student's t
with ``n - 1`` degrees of freedom, and two points are compared with Welch's t-test (unequal
variances; B. L. Welch, "The generalization of Student's problem when several different
population variances are involved", Biometrika 1947, https://doi.org/10.2307/2332510).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple


@dataclass(frozen=True)
class Summary:
    """``n`` values: their mean, sample std and the ``confidence`` t-interval of the mean
    (``std``, ``low`` and ``high`` are ``None`` for one value: nothing to estimate a spread
    from)."""

    n: int
    mean: float
    std: Optional[float]
    low: Optional[float]
    high: Optional[float]
    confidence: float = 0.95

    @property
    def half_width(self) -> Optional[float]:
        return None if self.low is None else (self.high - self.low) / 2

    def excludes(self, value: float) -> bool:
        """Whether the interval lies wholly on one side of ``value`` (False for n = 1)."""
        return interval_excludes(None if self.low is None else (self.low, self.high), value)


def interval_excludes(bounds: Optional[Tuple[float, float]], value: float = 0.0) -> bool:
    """Whether the interval ``(low, high)`` lies wholly on one side of ``value``: a difference
    is a finding only where its interval excludes 0. False without an interval (``None``).

    >>> interval_excludes((0.5, 2.0)), interval_excludes((-0.2, 2.0)), interval_excludes(None)
    (True, False, False)
    """
    return bounds is not None and not bounds[0] <= value <= bounds[1]


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Mean, std and the Student-t interval of the mean of ``values`` (at least one)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError('summarize needs at least one value')
    if not 0 < confidence < 1:
        raise ValueError(f'confidence must be in (0, 1), got {confidence}')
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Summary(1, mean, None, None, None, confidence)
    from scipy import stats
    std = statistics.stdev(values)
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * std / math.sqrt(len(values))
    return Summary(len(values), mean, std, mean - half, mean + half, confidence)


def welch_test(a: Sequence[float], b: Sequence[float]) -> Tuple[float, Optional[float]]:
    """(mean(a) - mean(b), two-sided p-value of Welch's t-test). The p-value is ``None``
    where the test is undefined: fewer than two values on a side, or no spread on either."""
    a, b = [float(v) for v in a], [float(v) for v in b]
    if not a or not b:
        raise ValueError('welch_test needs at least one value on each side')
    difference = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2 or (statistics.stdev(a) == 0 and statistics.stdev(b) == 0):
        return difference, None
    from scipy import stats
    return difference, float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def welch_interval(a: Sequence[float], b: Sequence[float],
                   confidence: float = 0.95) -> Optional[Tuple[float, float]]:
    """The ``confidence`` interval of mean(a) - mean(b) with Welch-Satterthwaite degrees of
    freedom; ``None`` where it is undefined (as for :func:`welch_test`).

    >>> low, high = welch_interval([40.83, 41.27], [40.69, 40.16])
    >>> round(low, 2), round(high, 2)
    (-0.91, 2.16)
    """
    a, b = [float(v) for v in a], [float(v) for v in b]
    difference, p = welch_test(a, b)
    if p is None:
        return None
    from scipy import stats
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf((1 + confidence) / 2, df) * math.sqrt(va + vb)
    return float(difference - half), float(difference + half)
