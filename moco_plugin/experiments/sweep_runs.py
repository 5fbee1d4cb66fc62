"""The runs of a sweep: each trains with ``moco_plugin.cli.train`` and is evaluated with
``moco_plugin.cli.benchmark`` (k-NN by default), both as subprocesses with the run's
``--cfg-options``. A run whose ``run.json`` exists is skipped, and a run with the same
identity as a finished one (of any spec) reuses its result, so an interrupted sweep
continues where it stopped.
"""
from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from moco_plugin.engine.train_config import set_data_root
from moco_plugin.experiments.sweep_plots import logged_records
from moco_plugin.experiments.sweep_spec import SweepRun, SweepSpec, run_config
from moco_plugin.registry import DATASETS
from moco_plugin.utils.atomic_io import atomic_write_text
from moco_plugin.utils.config_files import find_config

Say = Callable[[str], None]


def count_dataset(dataset_cfg: dict) -> int:
    """Images of a dataset config, without decoding them."""
    return len(DATASETS.build({**dataset_cfg, 'in_memory': False, 'pipeline': [],
                               'subset_size': None}))


def _command(module: str, *args: str) -> List[str]:
    return [sys.executable, '-m', module, *args]


def _silent(_: str) -> None:
    pass


def run_one(spec: SweepSpec, run: SweepRun, work_root: Path, data_root: Optional[str],
            say: Say = _silent) -> Dict:
    """Train and evaluate one run (skipped when its result exists); return its summary.
    ``say`` gets a line when a finished twin's result is reused."""
    folder = work_root / spec.name / run.run_id
    summary_path = folder / 'run.json'
    if summary_path.is_file():
        return json.loads(summary_path.read_text())
    config = str(find_config(spec.config))
    cfg = run_config(spec, run)
    identity = run_identity(cfg, spec, data_root)
    twin = _finished_twin(work_root, identity)
    if twin is not None:
        say(f'{spec.name}/{run.run_id}: same config as {twin["source"]}, reusing its result')
        summary = _as_run(twin, run)
        atomic_write_text(json.dumps(summary, indent=2) + '\n', summary_path)
        return summary
    common = ['--data-root', data_root] if data_root else []
    # a benchmark on other data (--eval-data / --train-data) does not read the training's root
    bench_common = [] if {'--eval-data', '--train-data'} & set(spec.benchmark) else common
    options = ['--cfg-options', *run.as_cli_options()]
    started = time.perf_counter()
    train = _command('moco_plugin.cli.train', config, '--work-dir', str(folder), *common,
                     # explicit either way: 'auto' would differ between machines under one identity
                     *(['--amp'] if spec.amp else ['--precision', 'fp32']), *options)
    _run_logged(train, folder / 'train.log', run.run_id)
    train_s = time.perf_counter() - started
    epochs = cfg.train_cfg.max_epochs
    result_path = folder / 'result.json'
    bench = _command('moco_plugin.cli.benchmark', config, str(folder / f'epoch_{epochs}.pth'),
                     *spec.benchmark, '--quiet', '--out', str(result_path), '--name', run.run_id,
                     '--markdown', str(folder / 'results.md'), *bench_common, *options)
    _run_logged(bench, folder / 'benchmark.log', run.run_id)
    result = json.loads(result_path.read_text())
    iters = result['pretrain'].get('iters') or 0
    summary = dict(run_id=run.run_id, values=run.values, seed=run.seed, iters=iters,
                   identity=identity, source=f'{spec.name}/{run.run_id}',
                   batch_size=cfg.train_dataloader.batch_size, train_wall_s=round(train_s, 1),
                   images_per_s=round(iters * cfg.train_dataloader.batch_size / train_s, 1),
                   knn_top1=_knn_score(result), knn_top5=_knn_score(result, 'top5'),
                   linear_top1=(result.get('linear') or {}).get('top1'),
                   **queue_diagnostics(folder))
    atomic_write_text(json.dumps(summary, indent=2) + '\n', summary_path)
    return summary


def finished_runs(spec: SweepSpec, runs: List[SweepRun], work_root: Path,
                  data_root: Optional[str] = None):
    """(summaries of the runs that finished, here or as another spec's run with the same
    config, ids of those that did not)."""
    done, missing = [], []
    for run in runs:
        path = work_root / spec.name / run.run_id / 'run.json'
        if path.is_file():
            done.append(json.loads(path.read_text()))
            continue
        twin = _finished_twin(work_root, run_identity(run_config(spec, run), spec, data_root))
        if twin is None:
            missing.append(run.run_id)
        else:
            done.append(_as_run(twin, run))
    return done, missing


def adopt_committed(spec: SweepSpec, runs: List[SweepRun], committed: List[Dict],
                    work_root: Path, data_root: Optional[str] = None) -> List[str]:
    """Write the committed summaries (``NAME_runs.json``) of runs that have no result in the
    work root as their ``run.json``, where the run's config is still the one they were made
    with (same identity: config, precision, benchmark arguments, data root); a summary made
    with another config is left out, so that run trains again. Returns the adopted run ids."""
    by_id = {s.get('run_id'): s for s in committed}
    adopted = []
    for run in runs:
        summary = by_id.get(run.run_id)
        path = work_root / spec.name / run.run_id / 'run.json'
        if summary is None or path.is_file() or summary.get('identity') != run_identity(
                run_config(spec, run), spec, data_root):
            continue
        atomic_write_text(json.dumps(summary, indent=2) + '\n', path)
        adopted.append(run.run_id)
    return adopted


def run_identity(cfg, spec: SweepSpec, data_root: Optional[str]) -> str:
    """Hash of everything that decides a run's result: the merged config, precision, the
    benchmark's arguments and the data; equal across specs (e.g. the momentum sweep's m=0.99
    point and the queue sweep's K=4096 point are one run). With ``data_root`` the config's own
    root (``$MOCO_DATA_ROOT`` sets it) does not count: the runs read ``data_root``."""
    if data_root:
        cfg = copy.deepcopy(cfg)
        set_data_root(cfg, data_root, check=False)
    text = json.dumps([cfg.pretty_text, spec.amp, spec.benchmark, data_root])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _finished_twin(work_root: Path, identity: str) -> Optional[Dict]:
    for path in sorted(work_root.glob('*/*/run.json')):
        summary = json.loads(path.read_text())
        if summary.get('identity') == identity and 'source' in summary:
            return summary
    return None


def _as_run(twin: Dict, run: SweepRun) -> Dict:
    """A finished twin's summary under this run's id and values (its ``source`` stays)."""
    return {**twin, 'run_id': run.run_id, 'values': run.values}


QUEUE_SCALARS = ('queue/own_image_share', 'queue/initial_fill_share')


def queue_diagnostics(folder: Path) -> Dict[str, float]:
    """Means over the logged training steps of MoCo's queue scalars (``own_image_share``:
    share of queries with an older key of their own image in the queue; ``initial_fill_share``:
    share of slots not written yet), read from the run's ``vis_data/scalars.json``.
    Empty for a model that logs none."""
    values: Dict[str, List[float]] = {key: [] for key in QUEUE_SCALARS}
    for record in logged_records(folder):
        for key in QUEUE_SCALARS:
            if key in record:
                values[key].append(float(record[key]))
    return {key.split('/')[1]: round(sum(v) / len(v), 4) for key, v in values.items() if v}


def _knn_score(result: Dict, key: str = 'top1') -> Optional[float]:
    """The first k-NN result's ``key`` (top1 / top5), ``None`` without one."""
    knn = result.get('knn') or {}
    value = next(iter(knn.values())).get(key) if knn else None
    return None if value is None else float(value)


def _run_logged(command: List[str], log_path: Path, run_id: str) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, 'w') as log:
        code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
    if code:
        last = [ln for ln in log_path.read_text().splitlines() if ln.strip()][-1:] or ['']
        raise RuntimeError(f'run {run_id} failed ({" ".join(command[2:4])}): {last[0][-300:]} '
                           f'(log: {log_path})')
