"""What the few-label tools write besides their JSON files: contact sheets, curves, tables."""
from __future__ import annotations

import io
from typing import Any, Dict, List

from PIL import Image, ImageDraw

from moco_plugin.utils.atomic_io import atomic_save_png, atomic_write_bytes


def contact_sheet(dataset, indices, path: str, captions=None, columns: int = 16,
                  tile: int = 64) -> None:
    """A PNG grid of the dataset's images ``indices`` (atomic write)."""
    indices = list(indices)
    columns = max(1, min(columns, len(indices)))
    rows = max(1, -(-len(indices) // columns))
    sheet = Image.new('RGB', (columns * tile, rows * (tile + 12)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for n, index in enumerate(indices):
        x, y = (n % columns) * tile, (n // columns) * (tile + 12)
        sheet.paste(dataset.get_image(int(index)).convert('RGB').resize((tile, tile)), (x, y))
        if captions is not None:
            draw.text((x + 2, y + tile), str(captions[n])[:10], fill=(0, 0, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, format='PNG')
    atomic_write_bytes(buffer.getvalue(), path)


def plot_precision_coverage(curves, path: str, title: str) -> None:
    """Precision and coverage (y) against the threshold (x), one colour per teacher."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for n, (name, rows) in enumerate(curves.items()):
        t = [r['threshold'] for r in rows]
        ax.plot(t, [r['precision'] for r in rows], color=f'C{n}', marker='.', label=f'{name} precision')
        ax.plot(t, [r['coverage'] for r in rows], color=f'C{n}', ls='--', label=f'{name} coverage')
    ax.set_xlabel('confidence threshold')
    ax.set_ylabel('share')
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    ax.set_title(title)
    fig.tight_layout()
    atomic_save_png(fig, path)
    plt.close(fig)


def plot_curves(summary: Dict[str, List[Dict[str, float]]], path: str, title: str) -> None:
    """Test top-1 (mean +- std over seeds) against the label count, one line per strategy."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for strategy, rows in summary.items():
        x = [r['labels'] for r in rows]
        mean = [r['mean'] for r in rows]
        std = [r['std'] for r in rows]
        ax.errorbar(x, mean, yerr=std, marker='.', capsize=2, label=strategy)
    ax.set_xscale('log')
    ax.set_xlabel('labels')
    ax.set_ylabel('test top-1 (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    atomic_save_png(fig, path)
    plt.close(fig)


def markdown_table(out: Dict[str, Any]) -> str:
    """The active-learning study as markdown: per model, top-1 per strategy and label count."""
    lines = []
    for name, model in out['models'].items():
        counts = out['schedule']
        lines += [f'**{name}** (test top-1 %, mean ± std over seeds {out["seeds"]})', '',
                  '| strategy | ' + ' | '.join(str(c) for c in counts) + ' | time |',
                  '|---|' + '---|' * (len(counts) + 1)]
        for strategy, rows in model['summary'].items():
            cells = [f"{r['mean']:.1f} ± {r['std']:.1f}" for r in rows]
            lines.append(f'| {strategy} | ' + ' | '.join(cells) +
                         f" | {model['strategy_s'][strategy]:.0f} s |")
        lines.append('')
    return '\n'.join(lines) + '\n'
