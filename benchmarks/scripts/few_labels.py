#!/usr/bin/env python
"""The few-label study on real CIFAR-10 (the few-labels results page).

Everything, pretraining included, is ``bash benchmarks/scripts/few_labels_study.sh``; this
script is its study part, on the checkpoints under ``--pretrain-root`` (``NAME/config.py`` and
``NAME/epoch_{--epochs}.pth``; ``random`` = the MoCo v2 config at random init). Features of
the pool (``--subset-train 0``: the whole training split) and of the test split are
extracted once per checkpoint and cached; linear probes / k-NN run on them.

Parts (``--parts``): ``budgets``, accuracy against the label budget (linear probe and
k-NN, every model, ``--seeds``); ``pseudo``, pseudo-label precision/coverage against the
threshold for each ``--teachers`` and the MoCo v2 student's gain from each;
``active``, the active-learning loop (tools/active_learning.py's library) on
``--al-models`` features; and with ``--finetune``, fine-tuning through
tools/{make_label_subset,pseudo_label,train_few_labels}.py per seed and budget. Results merge
into ``--out-dir``/few_labels.json under a lock, so two parts may run side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
sys.path.insert(0, REPO)

from moco_plugin.fewlabel.reports import plot_curves  # noqa: E402
from moco_plugin.cli.fewlabel_common import build_split, features_of, load_config, load_model  # noqa: E402
from moco_plugin.fewlabel.reports import plot_precision_coverage  # noqa: E402
from moco_plugin.datasets.label_subset import balanced_label_indices  # noqa: E402
from moco_plugin.evaluation.feature_extraction import FeatureSet  # noqa: E402
from moco_plugin.fewlabel import (precision_coverage, pseudo_label, run_active_loop, summarise,  # noqa: E402
                                  train_teacher)
from moco_plugin.utils.atomic_io import atomic_write_text  # noqa: E402
from few_labels_results import save_result, tables  # noqa: E402  (beside this script)

MODELS = ('mocov2', 'mocov1', 'simclr', 'random')
THRESHOLDS = [round(t, 2) for t in np.arange(0.1, 1.0, 0.05)]


def log(message: str) -> None:
    print(f'[few_labels] {message}', file=sys.stderr, flush=True)


def load_features(name: str, args):
    root = osp.join(REPO, args.pretrain_root)
    config = osp.join(root, name if name != 'random' else 'mocov2', 'config.py')
    checkpoint = 'random' if name == 'random' else osp.join(root, name, f'epoch_{args.epochs}.pth')
    ns = SimpleNamespace(config=config, cfg_options={}, data_root=args.data_root,
                         subset_train=args.subset_train or None,
                         subset_test=None, batch_size=256, num_workers=2, no_cache=False,
                         quiet=True)
    cfg = load_config(ns)
    backbone = load_model(cfg, checkpoint)
    tick = time.perf_counter()
    pool_set, pool_cfg = build_split(cfg, ns, 'train')
    test_set, test_cfg = build_split(cfg, ns, 'test')
    pool = features_of(backbone, pool_set, pool_cfg, ns, 'few_labels')
    test = features_of(backbone, test_set, test_cfg, ns, 'few_labels')
    # recorded relative to the repository (no machine paths in committed results)
    return pool, test, dict(config=osp.relpath(config, REPO),
                            checkpoint=checkpoint if name == 'random' else osp.relpath(checkpoint, REPO),
                            sha256=backbone.checkpoint_sha256,
                            features_s=round(time.perf_counter() - tick, 1))


def budgets(features, args):
    rows = {}
    for name, (pool, test, _) in features.items():
        for per_class in args.per_class:
            for kind in ('linear', 'knn'):
                top1, seconds = [], []
                for seed in args.seeds:
                    chosen = balanced_label_indices(pool.labels, per_class=per_class, seed=seed)
                    tick = time.perf_counter()
                    teacher = train_teacher(kind, FeatureSet(pool.features[chosen],
                                                             pool.labels[chosen]), 10, test,
                                            seed=seed)
                    seconds.append(time.perf_counter() - tick)
                    top1.append(teacher.top1)
                rows.setdefault(name, {}).setdefault(kind, {})[str(per_class * 10)] = dict(
                    mean=float(np.mean(top1)), std=float(np.std(top1, ddof=1)),
                    runs=top1, seconds=float(np.mean(seconds)))
                log(f'{name} {kind} {per_class * 10} labels: {np.mean(top1):.2f} ± '
                    f'{np.std(top1, ddof=1):.2f}')
    return rows


def pseudo_labels(features, args):
    """Teacher = the student's own model (MoCo v2) vs other models' features, same labels."""
    student_pool, student_test, _ = features['mocov2']
    out = dict(curves={}, students={})
    for teacher_name in args.teachers:
        pool = features[teacher_name][0]
        gains = []
        for seed in args.seeds:
            chosen = balanced_label_indices(pool.labels, per_class=args.pseudo_per_class, seed=seed)
            teacher = train_teacher('linear', FeatureSet(pool.features[chosen], pool.labels[chosen]),
                                    10, seed=seed)
            probs = teacher.probabilities(pool.features)
            if seed == args.seeds[0]:
                out['curves'][teacher_name] = precision_coverage(probs, pool.labels, THRESHOLDS,
                                                                 exclude=chosen)
            kept = pseudo_label(probs, args.pseudo_threshold, args.pseudo_cap, exclude=chosen)
            base = train_teacher('linear', FeatureSet(student_pool.features[chosen],
                                                      student_pool.labels[chosen]), 10,
                                 student_test, seed=seed)
            index = np.concatenate([chosen, kept.indices])
            target = np.concatenate([student_pool.labels[chosen], kept.labels])
            student = train_teacher('linear', FeatureSet(student_pool.features[index], target), 10,
                                    student_test, seed=seed)
            precision = float((pool.labels[kept.indices] == kept.labels).mean()) if len(kept.indices) else float('nan')
            gains.append(dict(seed=seed, base=base.top1, student=student.top1,
                              kept=int(len(kept.indices)), precision=precision))
            log(f'pseudo-labels by {teacher_name} (seed {seed}): {len(kept.indices)} kept, '
                f'precision {precision:.3f}; student {base.top1:.2f} -> {student.top1:.2f}')
        out['students'][teacher_name] = gains
    return out


def active(features, args):
    out = {}
    for name in args.al_models:
        pool, test, _ = features[name]
        runs, seconds = {}, {}
        for strategy in args.strategies:
            tick = time.perf_counter()
            runs[strategy] = [run_active_loop(pool, test, strategy, args.schedule, seed, 10,
                                              log=log) for seed in args.seeds]
            seconds[strategy] = round(time.perf_counter() - tick, 1)
        out[name] = dict(runs=runs, seconds=seconds, summary=summarise(runs))
        plot_curves(out[name]['summary'], osp.join(args.out_dir, f'active_learning_{name}.png'),
                    f'{name} features: active selection, linear probe ({len(args.seeds)} seeds)')
    return out


def _tool(name: str, *argv: str) -> None:
    subprocess.run([sys.executable, osp.join(REPO, 'tools', name), *argv], check=True, cwd=REPO)


def _paths(info: dict) -> dict:
    """A model's config and checkpoint as paths the tools can open from any directory."""
    checkpoint = info['checkpoint']
    return {**info, 'config': osp.join(REPO, info['config']),
            'checkpoint': checkpoint if checkpoint == 'random' else osp.join(REPO, checkpoint)}


def finetune(features, args):
    """Fine-tuning (and the linear probe on the same labels) through the tools, per seed.

    For each seed and budget one label file (``make_label_subset.py --per-class N --seed S``);
    every model in ``--finetune-models`` is fine-tuned on it (``train_few_labels.py``, recipe
    ``--finetune-recipe``) and probed linearly on the same labels. With ``--finetune-pseudo
    TEACHER``, at the budgets of ``--pseudo-finetune-per-class`` the teacher's checkpoint
    pseudo-labels the pool (``pseudo_label.py --threshold T --max-per-class C --student``)
    and the first model is fine-tuned on the labels + pseudo-labels.
    """
    out = {}
    work = osp.join(REPO, 'work_dirs', 'few_labels', args.finetune_tag)
    os.makedirs(work, exist_ok=True)
    data = ['--data-root', args.data_root] if args.data_root else []
    subset = ['--subset-train', str(args.subset_train)] if args.subset_train else []
    runs = []
    for seed in args.finetune_seeds:
        for per_class in args.finetune_per_class:
            info0 = _paths(features[args.finetune_models[0]][2])
            labels = osp.join(work, f'labels_{per_class * 10}_seed{seed}.json')
            if not osp.isfile(labels):
                _tool('make_label_subset.py', info0['config'], '--per-class', str(per_class),
                      '--seed', str(seed), '--out', labels, *subset, *data)
            plans = [(name, recipe, None) for name in args.finetune_models
                     for recipe in (args.finetune_recipe, 'resnet18_linear-fewlabel_cifar10')]
            if args.finetune_pseudo and per_class in args.pseudo_finetune_per_class:
                teacher = _paths(features[args.finetune_pseudo][2])
                student = info0
                pseudo = osp.join(work, f'pseudo_{args.finetune_pseudo}_{per_class * 10}_seed{seed}.json')
                if not osp.isfile(pseudo):
                    _tool('pseudo_label.py', teacher['config'], teacher['checkpoint'], '--labels',
                          labels, '--threshold', str(args.pseudo_threshold), '--max-per-class',
                          str(args.pseudo_cap), '--student', student['checkpoint'], '--seed',
                          str(seed), '--quiet', '--out', pseudo, *subset, *data)
                plans.append((args.finetune_models[0], args.finetune_recipe, pseudo))
            for name, recipe, pseudo in plans:
                info = _paths(features[name][2])
                kind = 'finetune' if recipe == args.finetune_recipe else 'linear'
                tag = f"{name}_{kind}_{per_class * 10}_seed{seed}" + ('_pseudo' if pseudo else '')
                result = osp.join(work, f'{tag}.json')
                tick = time.perf_counter()
                if not osp.isfile(result):
                    _tool('train_few_labels.py', info['config'], info['checkpoint'], '--labels',
                          labels, '--recipe', recipe, '--seed', str(seed), '--quiet', *subset,
                          *data, '--out', result,
                          *(['--pseudo-labels', pseudo] if pseudo else []))
                run = json.load(open(result))
                row = dict(model=name, kind=kind, labels=per_class * 10, seed=seed,
                           pseudo=bool(pseudo), n_pseudo=run.get('n_pseudo', 0),
                           top1=run['top1'], top5=run['top5'], train_s=run.get('train_s'),
                           wall_s=round(time.perf_counter() - tick, 1))
                if pseudo:
                    kept = json.load(open(pseudo))
                    row['pseudo_precision'] = kept.get('meta', {}).get('precision_vs_true_labels')
                runs.append(row)
                log(f"{tag}: top-1 {row['top1']:.2f} ({row['wall_s']} s)")
    out['runs'] = runs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--pretrain-root', default='work_dirs/fewlabel_pretrain')
    parser.add_argument('--epochs', type=int, default=1, help='pretraining epochs (checkpoint name)')
    parser.add_argument('--data-root', default=os.environ.get('MOCO_DATA_ROOT'))
    parser.add_argument('--models', nargs='+', default=list(MODELS))
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--per-class', type=int, nargs='+', default=[1, 4, 25, 100])
    parser.add_argument('--subset-train', type=int, default=0,
                        help='class-balanced subset of the training split as the pool (0: all)')
    parser.add_argument('--teachers', nargs='+', default=['mocov2', 'simclr'],
                        help='pseudo-label teachers (the student is mocov2)')
    parser.add_argument('--pseudo-per-class', type=int, default=25)
    parser.add_argument('--pseudo-threshold', type=float, default=0.8)
    parser.add_argument('--pseudo-cap', type=int, default=1000)
    parser.add_argument('--al-models', nargs='+', default=['mocov2'])
    parser.add_argument('--strategies', nargs='+',
                        default=['random', 'least_confidence', 'margin', 'entropy', 'intersection',
                                 'kmeans', 'typiclust', 'hybrid'])
    parser.add_argument('--schedule', type=int, nargs='+', default=[10, 20, 40, 80, 160, 320, 640, 1000])
    parser.add_argument('--finetune', action='store_true')
    parser.add_argument('--finetune-per-class', type=int, nargs='+', default=[25])
    parser.add_argument('--finetune-seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--finetune-models', nargs='+', default=['mocov2', 'random'])
    parser.add_argument('--finetune-recipe', default='finetune_resnet18_1xb64-coslr-30e-bblr0.1_cifar10')
    parser.add_argument('--finetune-pseudo', metavar='TEACHER',
                        help='also fine-tune the first model on labels + this model\'s pseudo-labels')
    parser.add_argument('--pseudo-finetune-per-class', type=int, nargs='+', default=[25])
    parser.add_argument('--finetune-tag', default='finetune',
                        help='folder under work_dirs/few_labels for label files and raw results')
    parser.add_argument('--parts', nargs='+', default=['budgets', 'pseudo', 'active'])
    parser.add_argument('--out-dir', default='benchmarks/results/few_labels')
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    started = time.perf_counter()
    features = {name: load_features(name, args) for name in args.models}
    path = osp.join(args.out_dir, 'few_labels.json')
    result = save_result(path, dict(models={k: v[2] for k, v in features.items()},
                                    commands=[' '.join(['python'] + sys.argv)]))
    for part, fn in (('budgets', budgets), ('pseudo', pseudo_labels), ('active', active)):
        if part in args.parts:
            tick = time.perf_counter()
            value = fn(features, args)
            result = save_result(path, {part: value, 'seconds': {
                part: round(time.perf_counter() - tick, 1)}})
    if 'pseudo' in args.parts:
        plot_precision_coverage(result['pseudo']['curves'],
                                osp.join(args.out_dir, 'pseudo_label_precision_coverage.png'),
                                f'pseudo-labels on the unlabelled CIFAR-10 train split '
                                f'({args.pseudo_per_class * 10} labels)')
    if args.finetune:
        tick = time.perf_counter()
        runs = finetune(features, args)['runs']
        result = save_result(path, {'seconds': {f'finetune_{args.finetune_tag}': round(
            time.perf_counter() - tick, 1)}}, finetune_runs=runs)
    result = save_result(path, {'pseudo_labels_n': args.pseudo_per_class * 10,
                                'seconds': {'total_' + '_'.join(args.parts) + (
                                    '_finetune' if args.finetune else ''): round(
                                    time.perf_counter() - started, 1)}})
    result['total_s'] = sum(v for k, v in result['seconds'].items() if k.startswith('total_'))
    atomic_write_text(tables(result), osp.join(args.out_dir, 'tables.md'))
    log(f'written {path} ({result["total_s"]:.0f} s in all its runs)')


if __name__ == '__main__':
    main()
