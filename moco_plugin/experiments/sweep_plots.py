"""Figures of a sweep: k-NN top-1 against the swept key, and the runs' pretext-loss curves."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Iterator, List

from moco_plugin.experiments.sweep_spec import VARIANT, SweepSpec
from moco_plugin.evaluation.statistics import summarize
from moco_plugin.utils.atomic_io import atomic_save_png


def grouped_runs(spec: SweepSpec, summaries: List[Dict]):
    """(values, runs) per combination of swept values, in the order the runs came."""
    order: Dict[str, List[Dict]] = {}
    for row in summaries:
        order.setdefault(json.dumps(row['values'], sort_keys=True), []).append(row)
    return [(rows[0]['values'], rows) for rows in order.values()]


def interval_points(spec: SweepSpec, summaries: List[Dict]) -> List[tuple]:
    """(x value, mean, half-width of the 95 % t-interval; 0 for one seed) per point with a
    k-NN score."""
    points = []
    for values, rows in grouped_runs(spec, summaries):
        scores = [r['knn_top1'] for r in rows if r.get('knn_top1') is not None]
        if scores:
            s = summarize(scores)
            points.append((values[spec.x], s.mean, s.half_width or 0.0))
    return points


def plot(spec: SweepSpec, summaries: List[Dict], path: Path) -> None:
    """k-NN top-1 (mean, error bars: 95 % t-interval over seeds, none for one seed) against
    the spec's ``x`` key."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    points = interval_points(spec, summaries)
    xs = [str(p[0]) for p in points]
    fig, ax = plt.subplots(figsize=(6, 4))
    # named variants are categories: a line between them would suggest an order
    ax.errorbar(range(len(points)), [p[1] for p in points], yerr=[p[2] for p in points],
                marker='o', capsize=3, linestyle='none' if spec.x == VARIANT else '-')
    ax.set_xticks(range(len(points)), xs)
    ax.set_xlabel(spec.x)
    ax.set_ylabel('k-NN top-1 (%), mean and 95 % interval')
    ax.set_title(f'{spec.name}\n{spec.config}', fontsize=9)
    fig.tight_layout()
    atomic_save_png(fig, path, dpi=120)
    plt.close(fig)


def logged_records(run_folder: Path) -> Iterator[Dict]:
    """Every record MMEngine logged for a run (``*/vis_data/scalars.json``), in file order."""
    for scalars in sorted(run_folder.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            if line.strip():
                yield json.loads(line)


def training_losses(run_folder: Path) -> List[tuple]:
    """(iteration, loss) pairs MMEngine logged for a run (``*/vis_data/scalars.json``)."""
    points = [(int(record['iter']), float(record['loss'])) for record in logged_records(run_folder)
              if 'loss' in record and 'iter' in record]
    return sorted(dict(points).items())  # a resumed run logs its epochs once more


def plot_loss_curves(summaries: List[Dict], work_root: Path, path: Path, spec_name: str) -> bool:
    """The pretext loss of every run against its iteration, one colour per combination of
    values (seeds share it): where a setting lets the model "cheat" (plain BN instead of
    shuffle-BN) its loss falls fastest. ``False`` when no run logged a loss."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    colours: Dict[str, str] = {}
    drawn = False
    for row in summaries:
        curve = training_losses(work_root / row.get('source', f"{spec_name}/{row['run_id']}"))
        if not curve:
            continue
        label = ', '.join(f'{k.split(".")[-1]}={v}' for k, v in row['values'].items())
        first = label not in colours
        colours.setdefault(label, f'C{len(colours)}')
        ax.plot(*zip(*curve), color=colours[label], alpha=0.8, label=label if first else None)
        drawn = True
    if drawn:
        ax.set_xlabel('iteration')
        ax.set_ylabel('InfoNCE loss (logged mean)')
        ax.set_title(f'{spec_name}: pretext loss, every seed')
        ax.legend()
        fig.tight_layout()
        atomic_save_png(fig, path)
    plt.close(fig)
    return drawn
