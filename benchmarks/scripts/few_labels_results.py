"""The few-label study's result file and its tables (``benchmarks/scripts/few_labels.py``):
parts merged under a lock so that two study processes can run side by side, and the markdown
tables of every part present."""
from __future__ import annotations

import json
import os.path as osp

import numpy as np

from moco_plugin.utils.atomic_io import atomic_write_text


def _run_key(row: dict) -> tuple:
    return row['model'], row['kind'], row['labels'], row['seed'], row['pseudo']


def save_result(path: str, update: dict, finetune_runs=None) -> dict:
    """Merge ``update`` into the result file under a lock and return the merged result.

    Two study processes may run side by side (active selection on one core, fine-tuning on
    the other): each re-reads the file and replaces only the parts it computed; ``models``
    and ``seconds`` are merged, ``commands`` appended, fine-tuning runs merged by
    (model, kind, labels, seed, pseudo).
    """
    import fcntl
    with open(path + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = json.load(open(path)) if osp.isfile(path) else {}
        for key, value in update.items():
            if key in ('models', 'seconds'):
                current.setdefault(key, {}).update(value)
            elif key == 'commands':
                current.setdefault(key, []).extend(c for c in value if c not in current[key])
            else:
                current[key] = value
        if finetune_runs is not None:
            runs = {_run_key(r): r for r in current.get('finetune', {}).get('runs', [])}
            runs.update({_run_key(r): r for r in finetune_runs})
            current['finetune'] = dict(runs=sorted(runs.values(), key=lambda r: (
                r['labels'], r['model'], r['kind'], r['pseudo'], r['seed'])))
        atomic_write_text(json.dumps(current, indent=1), path)
    return current


def tables(result) -> str:
    """Markdown tables of every part present in the result."""
    lines = []
    if 'budgets' in result:
        counts = sorted({int(c) for m in result['budgets'].values() for k in m.values() for c in k})
        lines += ['| features | classifier | ' + ' | '.join(f'{c} labels' for c in counts) + ' |',
                  '|---|---|' + '---|' * len(counts)]
        for name, kinds in result['budgets'].items():
            for kind, cells in kinds.items():
                lines.append(f'| {name} | {kind} | ' + ' | '.join(
                    f"{cells[str(c)]['mean']:.1f} ± {cells[str(c)]['std']:.1f}" for c in counts) + ' |')
        lines.append('')
    if 'pseudo' in result:
        lines += ['| teacher | labels | pseudo-labels kept | precision | student without | '
                  'student with | gain |', '|---|---|---|---|---|---|---|']
        for teacher, runs in result['pseudo']['students'].items():
            base = np.array([r['base'] for r in runs])
            with_ = np.array([r['student'] for r in runs])
            lines.append(f"| {teacher} | {result.get('pseudo_labels_n', '')} | "
                         f"{np.mean([r['kept'] for r in runs]):.0f} | "
                         f"{np.nanmean([r['precision'] for r in runs]):.3f} | {base.mean():.2f} | "
                         f'{with_.mean():.2f} | {(with_ - base).mean():+.2f} ± '
                         f'{(with_ - base).std(ddof=1) if len(runs) > 1 else 0:.2f} |')
        lines += ['', '| threshold | ' + ' | '.join(
            f'{t} precision | {t} coverage' for t in result['pseudo']['curves']) + ' |',
            '|---|' + '---|---|' * len(result['pseudo']['curves'])]
        curves = list(result['pseudo']['curves'].values())
        for i, row in enumerate(curves[0]):
            if round(row['threshold'] * 20) % 2 == 0 or row['threshold'] > 0.85:
                lines.append(f"| {row['threshold']:.2f} | " + ' | '.join(
                    f"{c[i]['precision']:.3f} | {c[i]['coverage']:.3f}" for c in curves) + ' |')
        lines.append('')
    for name, part in result.get('active', {}).items():
        first = next(iter(part['summary'].values()))
        lines += [f'{name} features, test top-1 (%) mean ± std over seeds:', '',
                  '| strategy | ' + ' | '.join(str(r['labels']) for r in first) + ' | time |',
                  '|---|' + '---|' * (len(first) + 1)]
        for strategy, rows in part['summary'].items():
            lines.append(f'| {strategy} | ' + ' | '.join(
                f"{r['mean']:.1f} ± {r['std']:.1f}" for r in rows) + f" | {part['seconds'][strategy]:.0f} s |")
        lines.append('')
    runs = result.get('finetune', {}).get('runs', [])
    if runs:
        lines += ['| features | classifier | labels | pseudo-labels | top-1 (mean ± std) | '
                  'seeds | per-seed top-1 | train time (mean) |', '|---|---|---|---|---|---|---|---|']
        keys = sorted({(r['model'], r['kind'], r['labels'], r['pseudo']) for r in runs},
                      key=lambda k: (k[2], k[0], k[1], k[3]))
        for model, kind, count, pseudo in keys:
            cell = [r for r in runs if (r['model'], r['kind'], r['labels'], r['pseudo'])
                    == (model, kind, count, pseudo)]
            top1 = np.array([r['top1'] for r in cell])
            std = top1.std(ddof=1) if len(top1) > 1 else 0.0
            n_pseudo = f"{np.mean([r['n_pseudo'] for r in cell]):.0f}" if pseudo else '0'
            lines.append(f'| {model} | {kind} | {count} | {n_pseudo} | {top1.mean():.2f} ± '
                         f'{std:.2f} | {len(cell)} | ' + ', '.join(f'{t:.2f}' for t in top1)
                         + f" | {np.mean([r['train_s'] or 0 for r in cell]):.0f} s |")
        lines.append('')
    return '\n'.join(lines) + '\n'
