"""Pseudo-labels of the unlabelled pool by a teacher on the checkpoint's features (trained
on the labelled images, or a saved classifier), cut by a threshold, a count, a quantile or
a precision estimated by cross-validation; optionally the precision/coverage curve."""
from __future__ import annotations

import json
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from moco_plugin.datasets.label_files import make_label_set, write_label_file
from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.experiments.fewlabel_setup import (FewLabelModel, Log, backbone_of, extractor,
                                                    labelled_pool, load_config)
from moco_plugin.fewlabel.pseudo_labels import (check_different_teacher, precision_coverage,
                                                pseudo_label, pseudo_label_warnings,
                                                threshold_for_precision)
from moco_plugin.fewlabel.recipes import load_classifier
from moco_plugin.fewlabel.reports import plot_precision_coverage
from moco_plugin.fewlabel.teacher import (cross_validated_probs, teacher_from_classifier,
                                          train_teacher)
from moco_plugin.utils.atomic_io import atomic_write_text

CURVE_THRESHOLDS = [round(t, 2) for t in np.arange(0.05, 1.0, 0.05)]


@dataclass
class PseudoLabelRequest:
    """One of ``threshold``, ``count``, ``quantile``, ``target_precision`` is set."""

    model: FewLabelModel
    labels: str
    out: str
    teacher: str = 'linear'
    teacher_head: Optional[str] = None
    threshold: Optional[float] = None
    count: Optional[int] = None
    quantile: Optional[float] = None
    target_precision: Optional[float] = None
    criteria: List[str] = field(default_factory=lambda: ['confidence'])
    folds: int = 5
    student: Optional[str] = None
    allow_same_teacher: bool = False
    max_per_class: Optional[int] = None
    curve: bool = False


def _teacher(request: PseudoLabelRequest, pool, labels, num_classes: int):
    if request.teacher_head:
        saved = load_classifier(request.teacher_head)
        return teacher_from_classifier(saved.get('state_dict', {}), saved.get('meta', {}),
                                       num_classes, pool.features.shape[1], request.teacher_head)
    return train_teacher(request.teacher, FeatureSet(pool.features[labels.indices], labels.labels),
                         num_classes, seed=request.model.seed)


def make_pseudo_labels(request: PseudoLabelRequest, log: Log):
    """Write the pseudo-label file (and the curve files); returns the pseudo-labels."""
    model = request.model
    cfg = load_config(model)
    pool_set, pool_cfg, labels = labelled_pool(cfg, model, request.labels)
    backbone = backbone_of(cfg, model)
    if request.student:
        student = backbone_of(cfg, model, request.student).weights_sha256
        warning = check_different_teacher(backbone.weights_sha256, student,
                                          request.allow_same_teacher)
        if warning:
            log(warning)
    features = extractor(model, log)
    pool = features.features(backbone, pool_set, pool_cfg)
    num_classes = len(pool_set.classes)
    teacher = _teacher(request, pool, labels, num_classes)
    estimate = None
    if request.target_precision is not None:
        held_out = cross_validated_probs(request.teacher, FeatureSet(
            pool.features[labels.indices], labels.labels), num_classes, request.folds,
            seed=model.seed)
        estimate = threshold_for_precision(held_out, labels.labels, request.target_precision,
                                           request.criteria)
        log(f"threshold {estimate['threshold']:.4f}: precision {estimate['precision']:.3f} "
            f'estimated by {request.folds}-fold cross-validation over the {len(labels)} labels')
    probs = teacher.probabilities(pool.features)
    seen = labels.seen()  # labelled and skipped images are never pseudo-labelled
    kept = pseudo_label(probs, estimate['threshold'] if estimate else request.threshold,
                        request.max_per_class, seen, request.criteria, request.count,
                        request.quantile)
    for message in pseudo_label_warnings(probs, kept, request.criteria, seen,
                                         teacher.neighbours_used()):
        log(message)
    meta = dict(teacher=request.teacher_head or request.teacher,
                teacher_checkpoint=model.checkpoint,
                teacher_checkpoint_sha256=backbone.checkpoint_sha256,
                teacher_weights_sha256=backbone.weights_sha256, threshold=request.threshold,
                count=request.count, quantile=request.quantile, criteria=list(request.criteria),
                thresholds_applied=kept.thresholds, target_precision=request.target_precision,
                cross_validation=dict(estimate, folds=request.folds) if estimate else None,
                max_per_class=request.max_per_class, labels_file=osp.abspath(request.labels),
                n_labelled=len(labels), precision=features.precision_choice)
    truth = pool.labels
    if (truth >= 0).all() and len(kept.indices):
        meta['precision_vs_true_labels'] = float((truth[kept.indices] == kept.labels).mean())
    out = make_label_set(pool_set, kept.indices, kept.labels, labels.fingerprint,
                         kind='pseudo_labels', confidence=kept.confidence, meta=meta)
    write_label_file(out, request.out)
    log(f'{len(kept.indices)} of {len(pool) - len(seen)} unlabelled images pseudo-labelled '
        f'({kept.thresholds}); precision against the true labels: '
        f"{meta.get('precision_vs_true_labels', float('nan')):.4f}; written to {request.out}")
    if request.curve:
        if not (truth >= 0).all():
            raise ValueError('--curve needs a dataset with true labels (e.g. CIFAR-10)')
        rows = precision_coverage(probs, truth, CURVE_THRESHOLDS, exclude=labels.indices)
        stem = osp.splitext(request.out)[0]
        atomic_write_text(json.dumps(dict(meta=meta, rows=rows), indent=1), f'{stem}_curve.json')
        plot_precision_coverage({request.teacher: rows}, f'{stem}_curve.png',
                                f'pseudo-labels of {osp.basename(model.checkpoint)}')
    return out
