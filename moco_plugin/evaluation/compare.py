"""Side-by-side comparison of several benchmark results: a markdown table and a PNG."""
from __future__ import annotations

import os
import os.path as osp
from typing import Any, Dict, List, Sequence

from moco_plugin.evaluation.results import (MARKDOWN_HEADER, MARKDOWN_RULE, main_knn_k,
                                            markdown_row)
from moco_plugin.utils.atomic_io import atomic_write_bytes


def _sort_key(result: Dict[str, Any]) -> float:
    linear = (result.get('linear') or {}).get('top1')
    k = main_knn_k(result)
    knn = ((result.get('knn') or {}).get(k) or {}).get('top1') if k else None
    return -(linear if linear is not None else knn if knn is not None else -1.0)


def _shared_linear_settings(result: Dict[str, Any]) -> Dict[str, Any]:
    """Linear-probe settings, without the lr where it was chosen per result by a sweep."""
    linear = result.get('linear') or {}
    settings = dict(linear.get('settings') or {})
    if linear.get('lr_sweep'):
        settings.pop('lr', None)
    return settings


def _lr_sweep_lines(results: Sequence[Dict[str, Any]]) -> List[str]:
    """One line per result whose linear lr was chosen on held-out training images."""
    lines = []
    for result in results:
        sweep = (result.get('linear') or {}).get('lr_sweep')
        if not sweep:
            continue
        scores = ', '.join(f'{lr:g}: ' + ('diverged' if top1 is None else f'{top1:.2f}')
                           for lr, top1 in zip(sweep['candidates'], sweep['val_top1']))
        lines.append(f"Linear lr of {result.get('name', '-')}: **{sweep['selected_lr']:g}**, "
                     f"chosen on {sweep['n_val']} held-out training images (held-out top-1 per "
                     f'lr: {scores}); the test split was not used to choose it.')
    return lines


def comparison_markdown(results: Sequence[Dict[str, Any]], title: str = 'SSL benchmark') -> str:
    """A markdown document: the results table (best linear / k-NN top-1 first) and its settings."""
    ordered = sorted(results, key=_sort_key)
    lines = [f'# {title}', '', MARKDOWN_HEADER, MARKDOWN_RULE]
    lines += [markdown_row(r) for r in ordered]
    lines += ['', 'k-NN: weighted voting exp(sim/T) over the k nearest training images (cosine '
              'similarity, exact search); linear: a linear layer on the frozen backbone. '
              'Accuracies in %, on the test split; the training split is the k-NN bank and the '
              'linear-probe training set.', '']
    temperatures = sorted({str(r.get('knn_temperature')) for r in results if r.get('knn')})
    if temperatures:
        lines.append(f'k-NN temperature: {", ".join(temperatures)}.')
    settings = sorted({repr(sorted(_shared_linear_settings(r).items()))
                       for r in results if r.get('linear')})
    for setting in settings:
        lines.append(f'Linear-probe settings: `{setting}`.')
    lines += _lr_sweep_lines(ordered)
    datasets = sorted({repr(r.get('dataset')) for r in results})
    if len(datasets) > 1:
        lines.append('**Warning: the results use different datasets or subsets:** '
                     + '; '.join(datasets))
    return '\n'.join(lines) + '\n'


def plot_comparison(results: Sequence[Dict[str, Any]], path: str,
                    title: str = 'SSL benchmark') -> None:
    """PNG: grouped bars of k-NN / linear top-1 per result; linear-probe and k-NN-monitor curves.

    The curve panels appear only when some result has a linear curve or a
    k-NN-monitor history (from pretraining).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    ordered = sorted(results, key=_sort_key)
    names = [r.get('name', r.get('algorithm', '?')) for r in ordered]
    has_curves = any((r.get('linear') or {}).get('curve') for r in ordered)
    has_monitor = any(r.get('knn_monitor') for r in ordered)
    panels = 1 + has_curves + has_monitor
    fig, axes = plt.subplots(1, panels, figsize=(6 + 5 * (panels - 1), 4.5), squeeze=False)
    axes = axes[0]

    ax = axes[0]
    x = np.arange(len(ordered))
    series = []
    for label, getter in (
            ('k-NN top-1', lambda r: ((r.get('knn') or {}).get(main_knn_k(r) or '', {}) or {}).get('top1')),
            ('linear top-1', lambda r: (r.get('linear') or {}).get('top1'))):
        values = [getter(r) for r in ordered]
        if any(v is not None for v in values):
            series.append((label, [np.nan if v is None else v for v in values]))
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series):
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width, label=label)
        ax.bar_label(bars, fmt='%.1f', fontsize=7, padding=1)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=30, ha='right', fontsize=8)
    ax.set_ylabel('accuracy (%)')
    ax.set_ylim(0, 100)
    ax.set_title('top-1 accuracy')
    ax.legend(fontsize=8)
    colours = {name: f'C{i % 10}' for i, name in enumerate(names)}  # one colour per result

    panel = 1
    if has_curves:
        ax = axes[panel]
        panel += 1
        for name, r in zip(names, ordered):
            curve = (r.get('linear') or {}).get('curve') or []
            if curve:
                ax.plot([c['epoch'] for c in curve], [c['top1'] for c in curve], label=name,
                        color=colours[name])
        ax.set_xlabel('linear-probe epoch')
        ax.set_ylabel('val top-1 (%)')
        ax.set_title('linear probe')
        ax.legend(fontsize=7)
    if has_monitor:
        ax = axes[panel]
        for name, r in zip(names, ordered):
            history = r.get('knn_monitor') or []
            if history:
                ax.plot([h['epoch'] for h in history], [h['top1'] for h in history], marker='o',
                        label=name, color=colours[name])
        ax.set_xlabel('pretraining epoch')
        ax.set_ylabel('k-NN top-1 (%)')
        ax.set_title('k-NN monitor during pretraining')
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_comparison(results: List[Dict[str, Any]], markdown_path: str, plot_path: str = None,
                     title: str = 'SSL benchmark') -> str:
    """Write the markdown table (and the PNG when ``plot_path`` is given); return the markdown."""
    if not results:
        raise ValueError('--compare needs at least one result JSON file')
    text = comparison_markdown(results, title)
    if plot_path:
        plot_comparison(results, plot_path, title)
        text += f'\n![{title}]({osp.relpath(plot_path, osp.dirname(osp.abspath(markdown_path)))})\n'
    atomic_write_bytes(text.encode(), markdown_path)
    return text
