"""A whole sweep: check every run of a spec, train and evaluate them (:mod:`.sweep_runs`),
then write the results page (:mod:`.sweep_table`) and its figures (:mod:`.sweep_plots`).

``tools/sweep.py SPEC`` builds a :class:`SweepSettings` from its command line and calls
:func:`run_sweep`. Invalid runs are refused before any starts.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from moco_plugin.experiments.sweep_plots import plot, plot_loss_curves
from moco_plugin.experiments.sweep_runs import (Say, adopt_committed, count_dataset, finished_runs,
                                                run_one)
from moco_plugin.experiments.sweep_spec import SweepRun, SweepSpec, check_runs, expand, load_spec
from moco_plugin.experiments.sweep_table import check_baseline, table
from moco_plugin.utils.atomic_io import atomic_write_text


@dataclass
class SweepSettings:
    """The options of one sweep (``tools/sweep.py``'s, same names and defaults)."""

    spec: Path
    work_root: Path = Path('work_dirs/sweeps')
    out: Optional[Path] = None  # results page (default benchmarks/results/ablations/NAME.md)
    jobs: int = 1
    data_root: Optional[str] = None
    dry_run: bool = False
    report_only: bool = False
    seeds: Optional[List[int]] = None  # only these seeds (default: the spec's)
    baseline: Optional[str] = None  # the point the others are compared with


def run_sweep(settings: SweepSettings, say: Say) -> List[Dict]:
    """Check, run (or with ``report_only`` collect) every run and write the page; ``say``
    gets the progress lines and the page. Returns the runs' summaries ([] for a dry run).

    ``settings.seeds`` chooses the seeds to train now; the page shows every seed of the spec
    (and those chosen) that has a result: in the work root, as another spec's twin, or in the
    summaries committed beside the page when they were made with the same config
    (:func:`.sweep_runs.adopt_committed`), so adding a seed keeps the earlier ones."""
    spec = load_spec(settings.spec)
    if settings.seeds:
        spec.seeds = sorted(set(spec.seeds) | set(settings.seeds))
    runs = expand(spec)
    chosen = [r for r in runs if not settings.seeds or r.seed in settings.seeds]
    problems = check_runs(spec, chosen, count_dataset)
    if problems:
        raise ValueError(f'{len(problems)} invalid run(s), none started: ' + '; '.join(problems))
    if settings.baseline is not None:
        check_baseline(spec, [r.values for r in runs], settings.baseline)
    say(f'{spec.name}: {len(chosen)} runs ({len(settings.seeds or spec.seeds)} seed(s) each)')
    if settings.dry_run:
        say('\n'.join(f'{r.run_id}: {" ".join(r.as_cli_options())}' for r in chosen))
        return []
    committed = summaries_path(page_path(spec, settings))
    if settings.report_only:
        summaries, missing = finished_runs(spec, runs, settings.work_root, settings.data_root)
        if not summaries and committed.is_file():  # the page's own summaries, committed beside it
            say(f'{spec.name}: no finished run under {settings.work_root}; the page from {committed}')
            summaries = json.loads(committed.read_text())
            done = {s['run_id'] for s in summaries}
            missing = [r.run_id for r in runs if r.run_id not in done]
        if not summaries:
            raise FileNotFoundError(f'no finished run of {spec.name} under {settings.work_root} '
                                    f'and no {committed.name} beside the page')
    else:
        if committed.is_file():
            adopted = adopt_committed(spec, runs, json.loads(committed.read_text()),
                                      settings.work_root, settings.data_root)
            if adopted:
                say(f'{spec.name}: {len(adopted)} run(s) from {committed}: {", ".join(adopted)}')
        _run_all(spec, chosen, settings, say)
        summaries, missing = finished_runs(spec, runs, settings.work_root, settings.data_root)
    say(write_page(spec, summaries, missing, settings))
    return summaries


def _run_all(spec: SweepSpec, runs: List[SweepRun], settings: SweepSettings,
             say: Say) -> List[Dict]:
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        return list(pool.map(
            lambda r: run_one(spec, r, settings.work_root, settings.data_root, say), runs))


def page_path(spec: SweepSpec, settings: SweepSettings) -> Path:
    return settings.out or Path('benchmarks/results/ablations') / f'{spec.name}.md'


def summaries_path(page: Path) -> Path:
    """``NAME_runs.json`` beside ``NAME.md``: every run's compact summary (no curves, no paths)."""
    return page.with_name(f'{page.stem}_runs.json')


def write_page(spec: SweepSpec, summaries: List[Dict], missing: List[str],
               settings: SweepSettings) -> str:
    """The results page (markdown table, plot, pretext-loss curves) and the runs' summaries
    it is made from (:func:`summaries_path`, so that ``--report-only`` rebuilds the page from
    them where the runs' folders are gone); return the page's text."""
    out = page_path(spec, settings)
    png = out.with_suffix('.png')
    atomic_write_text(json.dumps(summaries, indent=1) + '\n', summaries_path(out))
    command = ' '.join(['python tools/sweep.py', str(settings.spec)] + (
        [f'--jobs {settings.jobs}'] if settings.jobs > 1 else []) + (
        [f"--baseline '{settings.baseline}'"] if settings.baseline is not None else []))
    text = (f'# Sweep {spec.name}\n\n{spec.notes}\n\nCommand: `{command}`; base config '
            f'`{spec.config}`, shared options `{json.dumps(spec.cfg_options)}`.\n\n'
            + table(spec, summaries, settings.baseline)
            + (f'\nNot run yet: {", ".join(missing)}.\n' if missing else '')
            + f'\n![{spec.name}]({png.name})\n')
    atomic_write_text(text, out)
    plot(spec, summaries, png)
    loss_png = out.with_name(f'{out.stem}_loss.png')
    # from committed summaries the loss curves (in the runs' logs) are gone: keep the figure
    if (plot_loss_curves(summaries, settings.work_root, loss_png, spec.name)
            or (settings.report_only and loss_png.is_file())):
        text += f'\n![{spec.name}: pretext loss]({loss_png.name})\n'
        atomic_write_text(text, out)
    return text
