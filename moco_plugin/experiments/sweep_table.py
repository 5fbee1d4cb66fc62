"""The table of a sweep page: per point n, mean, std and 95 % t-interval of k-NN top-1 over
seeds; with a baseline point, each point's difference to it, the difference's 95 % Welch
interval and Welch's p-value."""
from __future__ import annotations

import math
import statistics
from typing import Any, Dict, List, Optional, Sequence

from moco_plugin.experiments.sweep_plots import grouped_runs
from moco_plugin.experiments.sweep_spec import SweepSpec, expand
from moco_plugin.evaluation.statistics import (interval_excludes, summarize, welch_interval,
                                                  welch_test)

# run means of MoCo's queue scalars (sweep_runs.queue_diagnostics) and their column names
QUEUE_SHARES = {'own_image_share': 'own-image share', 'initial_fill_share': 'initial-fill share'}


def format_value(value: Any) -> str:
    return f'{value:g}' if isinstance(value, float) else str(value)


def point_labels(keys: Sequence[str], values: Dict[str, Any]) -> List[str]:
    """The names ``--baseline`` accepts for a point: its key cells joined by ``', '`` (``256``,
    ``in-224px, 0.9``) and its run id without the seed (``queue_len=256``)."""
    return [', '.join(format_value(values[k]) for k in keys),
            '_'.join(f'{k.split(".")[-1]}={values[k]}' for k in keys)]


def check_baseline(spec: SweepSpec, all_values: Sequence[Dict[str, Any]], label: str) -> None:
    """A one-line error unless ``label`` names one of the points."""
    known = [point_labels(spec.value_keys, v) for v in all_values]
    if not any(label in names for names in known):
        shown = list(dict.fromkeys(names[0] for names in known))
        raise ValueError(f'--baseline {label!r} is none of the sweep points; use one of '
                         f'{", ".join(repr(s) for s in shown)}')


def _scores(rows: List[Dict]) -> List[float]:
    return [r['knn_top1'] for r in rows if r.get('knn_top1') is not None]


def _pvalue(p: Optional[float]) -> str:
    return '-' if p is None else (f'{p:.2g}' if p >= 0.001 else f'{p:.1e}')


def _interval(bounds: Optional[Sequence[float]]) -> str:
    """The difference's interval, in bold where it excludes 0 (a finding)."""
    if bounds is None:
        return '-'
    text = f'[{bounds[0]:+.2f}, {bounds[1]:+.2f}]'
    return f'**{text}**' if interval_excludes(bounds) else text


def table(spec: SweepSpec, summaries: List[Dict], baseline: Optional[str] = None) -> str:
    """Markdown, one row per combination of values. ``n`` counts the runs with a k-NN score;
    with one run, std and interval are '-'."""
    keys = spec.value_keys
    momentum = 'model.momentum' in keys
    groups = grouped_runs(spec, summaries)
    shares = [name for name in QUEUE_SHARES if any(name in r for r in summaries)]
    base_scores = None
    if baseline is not None:
        check_baseline(spec, [run.values for run in expand(spec)], baseline)
        base_scores = next((_scores(rows) for values, rows in groups
                            if baseline in point_labels(keys, values)), [])
        if not base_scores:
            raise ValueError(f'--baseline {baseline!r}: that point has no finished run with a '
                             'k-NN score yet; run it first or choose another baseline')
    head = keys + ['n', 'k-NN top-1 mean', 'std', '95 % interval', 'per seed'] + (
        [f'Δ vs {baseline}', 'Δ 95 % interval', 'Welch p'] if baseline is not None else []) + [
        'iterations', 'images/s', 'train wall s'] + (
        ['1/(1-m)', '1/(1-m) / iterations'] if momentum else []) + [
        QUEUE_SHARES[name] for name in shares]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for values, rows in groups:
        scores = _scores(rows)
        cells = [format_value(values[k]) for k in keys] + [str(len(scores))]
        if scores:
            s = summarize(scores)
            cells += [f'{s.mean:.2f}', '-' if s.std is None else f'{s.std:.2f}',
                      '-' if s.low is None else f'[{s.low:.2f}, {s.high:.2f}]',
                      ' / '.join(f'{v:.2f}' for v in scores)]
        else:
            cells += ['-', '-', '-', '-']
        if base_scores is not None:
            if baseline in point_labels(keys, values):
                cells += ['baseline', '-', '-']
            elif scores:
                difference, p = welch_test(scores, base_scores)
                cells += [f'{difference:+.2f}', _interval(welch_interval(scores, base_scores)),
                          _pvalue(p)]
            else:
                cells += ['-', '-', '-']
        cells += [str(rows[0]['iters']), f'{statistics.mean(r["images_per_s"] for r in rows):.0f}',
                  f'{statistics.mean(r["train_wall_s"] for r in rows):.0f}']
        if momentum:
            m = float(values['model.momentum'])
            horizon = math.inf if m >= 1 else 1 / (1 - m)
            cells += [f'{horizon:.0f}', f'{horizon / max(rows[0]["iters"], 1):.3g}']
        for name in shares:
            values = [r[name] for r in rows if name in r]
            cells.append(f'{statistics.mean(values):.3f}' if values else '-')
        lines.append('| ' + ' | '.join(cells) + ' |')
    note = ('\nn: runs (seeds) per point; 95 % interval: Student t with n - 1 degrees of freedom'
            ' ("-" for n = 1)' + ('; Δ, its 95 % interval and Welch p: the point minus the '
                                  "baseline, Welch's t-test (unequal variances); a difference is a "
                                  'finding only where its interval excludes 0 (in bold), otherwise no '
                                  'difference is detected at these n' if baseline else '') + (
                '; own-image / initial-fill share: mean over the logged training steps of the '
                "share of queries with an older key of their own image in MoCo's queue, and of "
                'the queue slots not yet written (random or empty initial fill)' if shares else '')
            + '.\n')
    return '\n'.join(lines) + '\n' + note
