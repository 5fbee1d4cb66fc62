"""The next images to label: a strategy over the checkpoint's features of the pool, never
an image already labelled or skipped; a selection file and a contact sheet of the picks."""
from __future__ import annotations

import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from moco_plugin.datasets.label_files import make_label_set, write_label_file
from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.experiments.fewlabel_setup import (FewLabelModel, Log, backbone_of, extractor,
                                                    labelled_pool, load_config)
from moco_plugin.fewlabel.reports import contact_sheet
from moco_plugin.fewlabel.strategies import (STRATEGIES, check_strategy, knn_entropy_warning,
                                             select)
from moco_plugin.fewlabel.teacher import train_teacher
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS


@dataclass
class SelectionRequest:
    model: FewLabelModel
    labels: str
    budget: int
    strategy: str
    out: str
    thresholds: Optional[Dict[str, float]] = None
    fill: bool = True
    teacher: str = 'linear'
    max_clusters: int = MAX_CLUSTERS
    sheet: Optional[str] = None  # default: out with .png


def select_labels(request: SelectionRequest, log: Log):
    """Write the selection file and its contact sheet; returns the selection."""
    check_strategy(request.strategy)
    model, thresholds = request.model, request.thresholds
    cfg = load_config(model)
    pool_set, pool_cfg, labels = labelled_pool(cfg, model, request.labels)
    backbone = backbone_of(cfg, model)
    features = extractor(model, log)
    pool = features.features(backbone, pool_set, pool_cfg)
    num_classes = len(pool_set.classes)
    tick = time.perf_counter()
    probs = None
    if 'probs' in STRATEGIES[request.strategy]:
        teacher = train_teacher(request.teacher, FeatureSet(pool.features[labels.indices],
                                                            labels.labels), num_classes,
                                seed=model.seed)
        probs = teacher.probabilities(pool.features)
        warning = knn_entropy_warning(thresholds, request.strategy, teacher.neighbours_used(),
                                      num_classes)
        if warning:
            log(warning)
    # skipped images (rejected by the labeller) are never picked again
    picked = select(request.strategy, request.budget, len(pool), labels.seen(), probs=probs,
                    embeddings=pool.features, seed=model.seed, thresholds=thresholds,
                    fill=request.fill, max_clusters=request.max_clusters)
    seconds = time.perf_counter() - tick
    if picked.info.get('n_passed') == 0:
        log(f"WARNING: no unlabelled image passes the thresholds {picked.info['thresholds']}"
            + ('; the picks are the most uncertain instead' if request.fill else ''))
    meta = dict(strategy=request.strategy, budget=request.budget,
                labels_file=osp.abspath(request.labels), precision=features.precision_choice,
                n_labelled=len(labels), embedding_checkpoint=model.checkpoint,
                embedding_checkpoint_sha256=backbone.checkpoint_sha256,
                embedding_weights_sha256=backbone.weights_sha256, teacher=request.teacher
                if probs is not None else None, seed=model.seed, select_s=round(seconds, 3),
                **{k: v for k, v in picked.info.items()})
    # A selection names images to label: their label field is -1 until someone labels them.
    selection = make_label_set(pool_set, picked.indices, np.full(len(picked.indices), -1),
                               labels.fingerprint, kind='selection', scores=picked.scores,
                               meta=meta)
    write_label_file(selection, request.out)
    sheet = request.sheet or osp.splitext(request.out)[0] + '.png'
    contact_sheet(pool_set, picked.indices, sheet, [f'{s:.2f}' for s in picked.scores])
    log(f'{len(picked.indices)} images picked by {request.strategy} in {seconds:.1f} s; '
        f'written to {request.out}, contact sheet {sheet}')
    return selection
