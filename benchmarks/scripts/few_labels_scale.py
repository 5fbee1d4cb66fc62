"""Few-label selection at the source report's scale: time and peak memory per strategy.

Synthetic features shaped like the report's problem (512,000 x 512, 800 classes, 12,800 to
select): long-tailed clustered Gaussians (class sizes fall geometrically, largest / smallest
= 20), so picks can be checked against the true clusters. A linear teacher is trained on
``--labelled`` class-balanced labels for the strategies that need probabilities. Each
strategy runs in its own process (``--worker``), so that its peak RSS (``ru_maxrss``) is its
own; tracemalloc gives the peak of the Python / numpy allocations during the step (faiss
and torch allocate outside it: RSS covers those)::

    nice -n 19 env OMP_NUM_THREADS=1 PYTHONPATH=$PWD python benchmarks/scripts/few_labels_scale.py \\
        --out benchmarks/results/few_labels/scale.json

``--kmeans-iterations`` below 20 for the k-means strategies (``--short-kmeans``): the fit's
time per iteration is measured and the 20-iteration time extrapolated (said in the table).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np

STRATEGIES = ('teacher', 'random', 'least_confidence', 'margin', 'entropy', 'intersection',
              'hybrid', 'kmeans', 'typiclust', 'typiclust-all')  # -all: max_clusters = L + B
EXTRA = ('pseudo_label',)  # count cut, three criteria, on the teacher's probabilities
PROBS_USERS = {'least_confidence', 'margin', 'entropy', 'intersection', 'hybrid', 'pseudo_label'}
# while this file exists, someone times the shared machine: the driver waits between strategies
QUIET = os.environ.get('MOCO_QUIET_FILE', os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))), 'QUIET'))  # default: QUIET beside the checkout


def make_data(n: int, dim: int, classes: int, seed: int, noise: float):
    rng = np.random.default_rng(seed)
    weights = np.exp(-np.log(20.0) * np.arange(classes) / max(classes - 1, 1))
    sizes = np.maximum(1, np.floor(weights / weights.sum() * n)).astype(np.int64)
    sizes[0] += n - sizes.sum()
    labels = rng.permutation(np.repeat(np.arange(classes), sizes))
    centres = rng.standard_normal((classes, dim), dtype=np.float32)
    features = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        block = labels[start:start + 65536]
        features[start:start + len(block)] = (centres[block] + noise * rng.standard_normal(
            (len(block), dim), dtype=np.float32))
    return features, labels


def balanced(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    out = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
           for c in np.unique(labels)]
    return np.sort(np.concatenate(out))


def rss_mib() -> float:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def run_one(name: str, data_dir: str, budget: int, iterations: int, seed: int) -> dict:
    """One strategy on the saved data; in a fresh process its ru_maxrss is its own."""
    import torch
    torch.set_num_threads(1)
    from moco_plugin.evaluation.feature_extraction import FeatureSet
    from moco_plugin.fewlabel import diversity, pseudo_label, select, train_teacher
    from moco_plugin.fewlabel.strategies import STRATEGIES as NEEDS
    features = np.load(os.path.join(data_dir, 'features.npy'))
    labels = np.load(os.path.join(data_dir, 'labels.npy'))
    labelled = np.load(os.path.join(data_dir, 'labelled.npy'))
    classes = int(labels.max()) + 1
    row = dict(strategy=name, n=len(features), dim=features.shape[1], classes=classes,
               budget=budget, labelled=len(labelled), inputs_rss_mib=round(rss_mib()))
    strategy = 'typiclust' if name.startswith('typiclust') else name
    probs = None
    if name == 'pseudo_label' or (name != 'teacher' and 'probs' in NEEDS[strategy]):
        probs = np.load(os.path.join(data_dir, 'probs.npy'))  # the 'teacher' row's
        row['inputs_rss_mib'] = round(rss_mib())
    tracemalloc.start()
    tick, cpu = time.perf_counter(), time.process_time()
    if name == 'teacher':  # linear probe on the labelled images, then all N x C probabilities
        teacher = train_teacher('linear', FeatureSet(features[labelled], labels[labelled]),
                                classes, seed=seed)
        probs = teacher.probabilities(features)
        picks = labelled
        row['teacher_top1'] = round(100 * float((probs.argmax(1) == labels).mean()), 2)
    elif name == 'pseudo_label':
        kept = pseudo_label(probs, count=budget, exclude=labelled,
                            criteria=('confidence', 'margin', 'entropy'))
        picks = kept.indices
        row['precision'] = round(float((kept.labels == labels[picks]).mean()), 4)
    else:
        max_clusters = len(labelled) + budget if name == 'typiclust-all' else 500
        picks = select(strategy, budget, len(features), labelled, probs=probs,
                       embeddings=features, seed=seed, max_clusters=max_clusters,
                       kmeans_iterations=iterations).indices
    seconds, cpu = time.perf_counter() - tick, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if name == 'teacher':
        np.save(os.path.join(data_dir, 'probs.npy'), probs)
    row.update(seconds=round(seconds, 1), cpu_s=round(cpu, 1),
               tracemalloc_peak_mib=round(peak / 2**20),
               peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    if strategy in ('kmeans', 'hybrid', 'typiclust') and diversity.LAST_RUN:
        fit = dict(diversity.LAST_RUN)
        row['kmeans'] = {k: round(v, 2) if isinstance(v, float) else v for k, v in fit.items()}
        per_iteration = fit['fit_s'] / fit['iterations']
        row['seconds_at_20_iterations'] = round(seconds + (20 - fit['iterations']) *
                                                per_iteration, 1)
        row['cpu_s_at_20_iterations'] = round(cpu + (20 - fit['iterations']) *
                                              fit['fit_cpu_s'] / fit['iterations'], 1)
    sizes = np.bincount(labels, minlength=classes)
    rare = np.argsort(sizes, kind='stable')[:classes // 4]
    covered = np.unique(labels[picks])
    row.update(picked=int(len(picks)), classes_covered=int(len(covered)),
               rare_covered=int(np.isin(rare, covered).sum()), rare_classes=int(len(rare)),
               max_per_class=int(np.bincount(labels[picks], minlength=classes).max()))
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--n', type=int, default=512_000)
    parser.add_argument('--dim', type=int, default=512)
    parser.add_argument('--classes', type=int, default=800)
    parser.add_argument('--budget', type=int, default=12_800)
    parser.add_argument('--per-class', type=int, default=1, help='labelled images per class')
    parser.add_argument('--noise', type=float, default=2.0, help='per-dimension std '
                        '(2: the 1-label-per-class linear teacher is 82 %% right)')
    parser.add_argument('--strategies', nargs='+', default=list(STRATEGIES + EXTRA))
    parser.add_argument('--kmeans-iterations', type=int, default=20)
    parser.add_argument('--short-kmeans', type=int, metavar='I',
                        help='run kmeans, hybrid and typiclust-all with I iterations and '
                             'extrapolate to 20')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--in-process', action='store_true',
                        help='no worker processes (tests; RSS then is the whole run\'s)')
    parser.add_argument('--out', help='results JSON')
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    parser.add_argument('--data-dir', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_one(args.worker, args.data_dir, args.budget,
                                 args.kmeans_iterations, args.seed)))
        return
    with tempfile.TemporaryDirectory(prefix='few_labels_scale_') as data_dir:
        tick = time.perf_counter()
        features, labels = make_data(args.n, args.dim, args.classes, args.seed, args.noise)
        labelled = balanced(labels, args.per_class, args.seed)
        for name, array in (('features', features), ('labels', labels), ('labelled', labelled)):
            np.save(os.path.join(data_dir, f'{name}.npy'), array)
        del features
        print(f'data {args.n} x {args.dim}, {args.classes} classes: '
              f'{time.perf_counter() - tick:.1f} s', file=sys.stderr, flush=True)
        rows, names = [], list(args.strategies)
        if 'teacher' not in names and set(names) & PROBS_USERS:
            names.insert(0, 'teacher')  # the others load its probabilities
        for name in names:
            while os.path.exists(QUIET):  # the machine is being timed: wait (shared machine)
                time.sleep(20)
            iterations = args.short_kmeans if args.short_kmeans and name in (
                'kmeans', 'hybrid', 'typiclust-all') else args.kmeans_iterations
            if args.in_process:
                row = run_one(name, data_dir, args.budget, iterations, args.seed)
            else:
                command = [sys.executable, os.path.abspath(__file__), '--worker', name,
                           '--data-dir', data_dir, '--budget', str(args.budget),
                           '--kmeans-iterations', str(iterations), '--seed', str(args.seed)]
                done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    if args.out:
        with open(args.out + '.tmp', 'w') as f:
            json.dump(dict(args={k: v for k, v in vars(args).items() if k not in
                                 ('worker', 'data_dir')}, rows=rows), f, indent=1)
        os.replace(args.out + '.tmp', args.out)
    print(table(rows))


def table(rows) -> str:
    lines = ['| strategy | wall (s) | CPU (s) | CPU at 20 k-means iterations (s) | peak RSS '
             '(MiB) | inputs RSS (MiB) | tracemalloc peak (MiB) | classes covered | rare covered '
             '| max per class |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(f"| {r['strategy']} | {r['seconds']} | {r['cpu_s']} | "
                     f"{r.get('cpu_s_at_20_iterations', '')} | {r['peak_rss_mib']} | "
                     f"{r['inputs_rss_mib']} | {r['tracemalloc_peak_mib']} | "
                     f"{r['classes_covered']} / {r['classes']} | {r['rare_covered']} / "
                     f"{r['rare_classes']} | {r['max_per_class']} |")
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
