"""The MoCo paper's Fig. 3 at CIFAR scale: end-to-end vs memory bank vs MoCo over K.

One command runs the three sweeps (finished runs are skipped) and puts them in one table
and one figure, K on a log axis::

    python benchmarks/scripts/mechanisms.py          # writes benchmarks/results/ablations/mechanisms.md / .png

K is what each mechanism contrasts a query with: MoCo's queue length, the memory bank's
negatives drawn per query, and for end-to-end the other keys of the batch (batch - 1).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = HERE.parent / 'specs'
PAGES = HERE.parent / 'results' / 'ablations'
sys.path.insert(0, str(HERE.parents[1]))  # this checkout's moco_plugin
from moco_plugin.evaluation.statistics import summarize  # noqa: E402
# mechanism: (spec, the swept key, K from its value)
MECHANISMS = {
    'MoCo (queue)': ('queue_size', 'model.queue_len', lambda v: v),
    'memory bank': ('mechanism_memory_bank', 'model.num_negatives', lambda v: v),
    'end-to-end': ('mechanism_end_to_end', 'train_dataloader.batch_size', lambda v: v - 1),
}


def collect(work_root: Path) -> dict:
    """mechanism -> {K: [run summaries]} from the sweeps' ``run.json`` files."""
    points: dict = {}
    for mechanism, (spec, key, to_k) in MECHANISMS.items():
        for path in sorted((work_root / spec).glob('*/run.json')):
            run = json.loads(path.read_text())
            points.setdefault(mechanism, {}).setdefault(to_k(run['values'][key]), []).append(run)
    return points


def table(points: dict) -> str:
    """One row per (mechanism, K): n, mean, std and 95 % Student-t interval over seeds ('-'
    for one seed)."""
    lines = ['| mechanism | K | n | k-NN top-1 mean | std | 95 % interval | per seed | iterations | '
             'images/s | train wall s |', '|---|---|---|---|---|---|---|---|---|---|']
    for mechanism, by_k in points.items():
        for k, runs in sorted(by_k.items()):
            scores = [r['knn_top1'] for r in runs]
            s = summarize(scores)
            std = '-' if s.std is None else f'{s.std:.2f}'
            interval = '-' if s.low is None else f'[{s.low:.2f}, {s.high:.2f}]'
            lines.append(f'| {mechanism} | {k} | {s.n} | {s.mean:.2f} | {std} | {interval} | '
                         f'{" / ".join(f"{v:.2f}" for v in scores)} | '
                         f'{runs[0]["iters"]} | {statistics.mean(r["images_per_s"] for r in runs):.0f}'
                         f' | {statistics.mean(r["train_wall_s"] for r in runs):.0f} |')
    return '\n'.join(lines) + '\n'


def plot(points: dict, path: Path, baseline=None) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for mechanism, by_k in points.items():
        ks = sorted(by_k)
        stats = [summarize([r['knn_top1'] for r in by_k[k]]) for k in ks]
        ax.errorbar(ks, [s.mean for s in stats], yerr=[s.half_width or 0.0 for s in stats],
                    marker='o', capsize=3, label=mechanism)
    if baseline is not None:
        ax.axhline(baseline, color='grey', linestyle='--', label=f'random init ({baseline:g})')
    ax.set_xscale('log', base=2)
    ax.set_xlabel('K (negatives per query)')
    ax.set_ylabel('k-NN top-1 (%), mean and 95 % interval')
    ax.set_title('Mechanisms over K (CIFAR-10, 2 epochs of 20k images)')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-root', type=Path, default=Path('work_dirs/sweeps'))
    parser.add_argument('--data-root', help='dataset folder, passed to every run')
    parser.add_argument('--seeds', nargs='+', help='run only these seeds of each sweep')
    parser.add_argument('--no-run', action='store_true', help='tabulate finished runs only')
    parser.add_argument('--baseline', type=float,
                        help="random init's k-NN top-1 on the same benchmark, drawn as a line")
    args = parser.parse_args()
    if not args.no_run:
        for spec, _, _ in MECHANISMS.values():
            command = [sys.executable, 'tools/sweep.py', str(SPECS / f'{spec}.json'),
                       '--work-root', str(args.work_root)]
            command += (['--data-root', args.data_root] if args.data_root else []) + (
                ['--seeds', *args.seeds] if args.seeds else [])
            subprocess.run(command, check=True)
    points = collect(args.work_root)
    if not points:
        sys.exit(f'no finished runs under {args.work_root}; run without --no-run first')
    text = ('# Contrastive mechanisms over K (MoCo paper Fig. 3) at CIFAR scale\n\n'
            'Command: `python benchmarks/scripts/mechanisms.py`. Each point: the README main '
            "job's scale (2 epochs over 20,000 CIFAR-10 images, batch 64 unless the batch is "
            'the swept value), k-NN top-1 on the full test split.\n\n' + table(points)
            + '\n![mechanisms](mechanisms.png)\n')
    (PAGES / 'mechanisms.md').write_text(text)
    plot(points, PAGES / 'mechanisms.png', args.baseline)
    print(text)


if __name__ == '__main__':
    main()
