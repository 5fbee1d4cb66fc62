#!/usr/bin/env python
"""Intervals for the few-labels page, from the study's per-seed results::

    python benchmarks/scripts/few_labels_statistics.py benchmarks/results/few_labels/few_labels.json

writes ``statistics.md`` next to the JSON: for every comparison the page states, the
difference of the means with its 95 % interval and p-value. Unpaired comparisons (two
models, two strategies) use Welch's t-test; paired ones (the same label draw with and
without pseudo-labels, fine-tuned and probed) the Student-t interval of the per-seed
differences. "finding" where the interval excludes zero, else "no difference detected".
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
from typing import List, Sequence

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from moco_plugin.evaluation.statistics import summarize, welch_interval, welch_test  # noqa: E402
from moco_plugin.utils.atomic_io import atomic_write_text  # noqa: E402

HEAD = ['| comparison | n | difference | 95 % interval | p | reading |', '|---|---|---|---|---|---|']


def _p(p) -> str:
    return '-' if p is None else (f'{p:.2g}' if p >= 0.001 else f'{p:.1e}')


def unpaired(label: str, a: Sequence[float], b: Sequence[float]) -> str:
    difference, p = welch_test(a, b)
    interval = welch_interval(a, b)
    found = interval is not None and not interval[0] <= 0 <= interval[1]
    shown = '-' if interval is None else f'[{interval[0]:+.2f}, {interval[1]:+.2f}]'
    return (f'| {label} | {len(a)} vs {len(b)} | {difference:+.2f} | {shown} | {_p(p)} | '
            f'{"finding" if found else "no difference detected"} |')


def paired(label: str, a: Sequence[float], b: Sequence[float]) -> str:
    differences = [x - y for x, y in zip(a, b)]
    s = summarize(differences)
    if s.low is None:
        return f'| {label} (paired) | {s.n} | {s.mean:+.2f} | - | - | one pair: no interval |'
    from scipy import stats
    p = float(stats.ttest_1samp(differences, 0.0).pvalue) if s.std else None
    return (f'| {label} (paired) | {s.n} | {s.mean:+.2f} | [{s.low:+.2f}, {s.high:+.2f}] | '
            f'{_p(p)} | {"finding" if s.excludes(0.0) else "no difference detected"} |')


def budget_rows(result: dict) -> List[str]:
    budgets = result['budgets']
    rows = []
    for kind in [k for k in ('linear', 'knn') if k in budgets['random']]:
        for count in sorted({int(c) for c in budgets['random'][kind]}):
            runs = {m: budgets[m][kind][str(count)]['runs'] for m in budgets}
            for model in [m for m in budgets if m != 'random']:
                rows.append(unpaired(f'{model} - random init, {kind}, {count} labels',
                                     runs[model], runs['random']))
            if {'mocov1', 'mocov2'} <= set(runs):
                rows.append(unpaired(f'mocov1 - mocov2, {kind}, {count} labels',
                                     runs['mocov1'], runs['mocov2']))
    return rows


def active_rows(result: dict) -> List[str]:
    rows = []
    for model, part in result.get('active', {}).items():
        per_strategy = part['runs']
        base = per_strategy['random']
        for strategy, seeds in per_strategy.items():
            if strategy == 'random':
                continue
            for i, point in enumerate(seeds[0]):
                rows.append(unpaired(f'{model}: {strategy} - random, {point["labels"]} labels',
                                     [s[i]['top1'] for s in seeds], [s[i]['top1'] for s in base]))
    return rows


def pseudo_rows(result: dict) -> List[str]:
    students = result.get('pseudo', {}).get('students', {})
    return [paired(f'student with - without {teacher} pseudo-labels', [r['student'] for r in runs],
                   [r['base'] for r in runs]) for teacher, runs in students.items()]


def finetune_rows(result: dict) -> List[str]:
    runs = result.get('finetune', {}).get('runs', [])
    by = {(r['model'], r['kind'], r['labels'], r['pseudo'], r['seed']): r['top1'] for r in runs}
    rows = []
    for model, labels in sorted({(r['model'], r['labels']) for r in runs}, key=lambda k: (k[1], k[0])):
        seeds = sorted(s for (m, k, n, p, s) in by if (m, k, n, p) == (model, 'finetune', labels, False)
                       and (m, 'linear', n, False, s) in by)
        if seeds:
            rows.append(paired(f'{model}: fine-tune - linear probe, {labels} labels',
                               [by[(model, 'finetune', labels, False, s)] for s in seeds],
                               [by[(model, 'linear', labels, False, s)] for s in seeds]))
        pseudo = sorted(s for (m, k, n, p, s) in by if (m, k, n, p) == (model, 'finetune', labels, True)
                        and (m, k, n, False, s) in by)
        if pseudo:
            rows.append(paired(f'{model}: fine-tune with - without pseudo-labels, {labels} labels',
                               [by[(model, 'finetune', labels, True, s)] for s in pseudo],
                               [by[(model, 'finetune', labels, False, s)] for s in pseudo]))
            probed = [s for s in pseudo if (model, 'linear', labels, False, s) in by]
            if probed:
                rows.append(paired(f'{model}: fine-tune with pseudo-labels - linear probe, {labels} labels',
                                   [by[(model, 'finetune', labels, True, s)] for s in probed],
                                   [by[(model, 'linear', labels, False, s)] for s in probed]))
    for labels in sorted({r['labels'] for r in runs}):
        scores = {m: [t for (m2, k, n, p, _), t in sorted(by.items()) if (m2, k, n, p) == (m, 'finetune', labels, False)]
                  for m in sorted({r['model'] for r in runs})}
        for model in [m for m in scores if m != 'random' and scores[m]]:
            if scores.get('random'):
                rows.append(unpaired(f'fine-tune {model} - random init, {labels} labels',
                                     scores[model], scores['random']))
    return rows


def page(result: dict, source: str) -> str:
    parts = [('Label budgets (linear probe and k-NN on frozen features)', budget_rows(result)),
             ('Pseudo-labels into a linear-probe student', pseudo_rows(result)),
             ('Fine-tuning', finetune_rows(result)),
             ('Active selection (each strategy minus random, per round)', active_rows(result))]
    lines = ['# Few labels: differences with their intervals', '',
             f'From the per-seed results in `{source}`, by `benchmarks/scripts/few_labels_statistics.py`.',
             'Test top-1 (%) differences; Welch for two independent sets of seeds, paired Student t',
             'for the same label draw under two treatments. "finding": the 95 % interval excludes 0.', '']
    for title, rows in parts:
        if rows:
            lines += [f'## {title}', '', *HEAD, *rows, '']
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('result', help='few_labels.json of benchmarks/scripts/few_labels.py')
    parser.add_argument('--out', help='default: statistics.md next to the result')
    args = parser.parse_args()
    result = json.load(open(args.result))
    out = args.out or osp.join(osp.dirname(args.result), 'statistics.md')
    atomic_write_text(page(result, osp.basename(args.result)), out)
    print(f'written {out}')


if __name__ == '__main__':
    main()
