#!/usr/bin/env python
"""Time every selection strategy over the whole CIFAR-10 training split (50,000 images).

Features of the MoCo v2 study checkpoint (cached after the first run); a linear teacher on
100 balanced labels gives the probabilities; each strategy picks ``--budget`` images::

    flock /tmp/cpu_heavy.lock python benchmarks/scripts/few_labels_selection_speed.py \\
        --out benchmarks/results/few_labels/selection_speed.json
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
import time
from types import SimpleNamespace

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
sys.path.insert(0, REPO)

from moco_plugin.cli.fewlabel_common import build_split, features_of, load_config, load_model  # noqa: E402
from moco_plugin.datasets.label_subset import balanced_label_indices  # noqa: E402
from moco_plugin.evaluation.feature_extraction import FeatureSet  # noqa: E402
from moco_plugin.fewlabel import STRATEGIES, select, train_teacher  # noqa: E402
from moco_plugin.utils.atomic_io import atomic_write_text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', default='work_dirs/fewlabel_pretrain/mocov2')
    parser.add_argument('--budget', type=int, default=100)
    parser.add_argument('--out', default='benchmarks/results/few_labels/selection_speed.json')
    args = parser.parse_args()
    ns = SimpleNamespace(config=osp.join(args.root, 'config.py'), cfg_options={},
                         data_root=os.environ.get('MOCO_DATA_ROOT'), subset_train=None,
                         subset_test=None, batch_size=256, num_workers=2, no_cache=False, quiet=True)
    cfg = load_config(ns)
    backbone = load_model(cfg, osp.join(args.root, 'epoch_1.pth'))
    pool_set, pool_cfg = build_split(cfg, ns, 'train')
    tick = time.perf_counter()
    pool = features_of(backbone, pool_set, pool_cfg, ns, 'speed')
    out = dict(pool=len(pool), budget=args.budget, features_s=round(time.perf_counter() - tick, 1),
               threads=os.environ.get('OMP_NUM_THREADS'), strategies={})
    labelled = balanced_label_indices(pool.labels, per_class=10)
    tick = time.perf_counter()
    teacher = train_teacher('linear', FeatureSet(pool.features[labelled], pool.labels[labelled]), 10)
    probs = teacher.probabilities(pool.features)
    out['teacher_and_scoring_s'] = round(time.perf_counter() - tick, 2)
    for strategy in STRATEGIES:
        tick = time.perf_counter()
        picked = select(strategy, args.budget, len(pool), labelled, probs=probs,
                        embeddings=pool.features, seed=0)
        out['strategies'][strategy] = round(time.perf_counter() - tick, 2)
        print(f'{strategy}: {len(picked.indices)} picks in {out["strategies"][strategy]} s',
              flush=True)
    atomic_write_text(json.dumps(out, indent=1), args.out)


if __name__ == '__main__':
    main()
