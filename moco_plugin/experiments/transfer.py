"""A transfer table: several checkpoints x several datasets, every cell one benchmark run
(``tools/benchmark.py``, its JSON kept next to the table, so the cells carry the same
provenance as single benchmarks); one markdown table and one bar plot.

``tools/transfer.py`` parses its command line into a :class:`TransferSettings` and runs the
cells through the benchmark's own command line.
"""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from moco_plugin.utils.atomic_io import atomic_write_text

Dataset = Tuple[str, List[str]]  # (name, tools/benchmark.py data arguments)
Cell = Tuple[str, str]  # (checkpoint name, dataset name)


@dataclass
class TransferSettings:
    """``checkpoints``: (name, config, checkpoint); ``datasets``: (name, benchmark data
    arguments); ``extra``: further benchmark arguments of every cell (last)."""

    checkpoints: List[Tuple[str, str, str]]
    datasets: List[Dataset]
    knn: bool = True
    linear: bool = False
    out: str = 'benchmarks/results/transfer/transfer.md'
    device: Optional[str] = None
    precision: str = 'auto'
    extra: List[str] = field(default_factory=list)


def cell_argv(config: str, checkpoint: str, dataset: Dataset, out: str,
              settings: TransferSettings) -> List[str]:
    """The ``tools/benchmark.py`` command line of one cell (its JSON result at ``out``)."""
    argv = [config, checkpoint, '--out', out, '--quiet', '--markdown', out[:-5] + '.md']
    argv += ['--knn'] if settings.knn else []
    argv += ['--linear'] if settings.linear else []
    argv += ['--precision', settings.precision or 'auto']
    argv += ['--device', settings.device] if settings.device else []
    return argv + dataset[1] + list(settings.extra)


def run_transfer(settings: TransferSettings,
                 run_cell: Callable[[List[str]], dict]) -> Tuple[Dict[Cell, dict], str]:
    """Every checkpoint on every dataset: ``run_cell(argv)`` runs one benchmark command line
    (:func:`cell_argv`) and returns its result. Writes the table (``settings.out``) and the
    plot; returns the results by (checkpoint, dataset) and the table."""
    folder = osp.splitext(settings.out)[0]
    cells = {}
    for ck_name, config, checkpoint in settings.checkpoints:
        for dataset in settings.datasets:
            out = osp.join(folder, f'{ck_name}__{dataset[0]}.json')
            cells[(ck_name, dataset[0])] = run_cell(cell_argv(config, checkpoint, dataset, out,
                                                              settings))
    text = table(settings, cells)
    atomic_write_text(text, settings.out)
    plot(settings, cells, folder + '.png')
    return cells, text


def _score(result: dict, metric: str) -> Optional[float]:
    if metric == 'knn' and result.get('knn'):
        return float(next(iter(result['knn'].values()))['top1'])
    if metric == 'linear' and result.get('linear'):
        return float(result['linear']['top1'])
    return None


def table(settings: TransferSettings, cells: Dict[Cell, dict]) -> str:
    metrics = [m for m in ('knn', 'linear') if getattr(settings, m)]
    names = [d[0] for d in settings.datasets]
    head = ['checkpoint'] + [f'{d} {m}' for d in names for m in metrics]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for ck_name, _, _ in settings.checkpoints:
        row = [ck_name]
        for d in names:
            for m in metrics:
                value = _score(cells[(ck_name, d)], m)
                row.append('–' if value is None else f'{value:.2f}')
        lines.append('| ' + ' | '.join(row) + ' |')
    sizes = {d: cells[(settings.checkpoints[0][0], d)]['dataset'] for d in names}
    notes = [f'- {d}: {s.get("data_root")}, {s.get("num_classes")} classes, {s.get("image_size")} px'
             for d, s in sizes.items()]
    return '\n'.join(lines + [''] + notes) + '\n'


def plot(settings: TransferSettings, cells: Dict[Cell, dict], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    metric = 'knn' if settings.knn else 'linear'
    names = [d[0] for d in settings.datasets]
    width = 0.8 / len(settings.checkpoints)
    fig, ax = plt.subplots(figsize=(2 + 2 * len(names), 4))
    for i, (ck_name, _, _) in enumerate(settings.checkpoints):
        values = [_score(cells[(ck_name, d)], metric) or 0.0 for d in names]
        ax.bar([j + i * width for j in range(len(names))], values, width, label=ck_name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names)
    ax.set_ylabel(f'{metric} top-1 (%)')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
