"""A classifier on the labelled (and pseudo-labelled) images over a checkpoint's backbone:
linear probe or k-NN on cached features, or full fine-tuning; top-1 / top-5 on the test set
(or on a held-out share of the labels), a result JSON and the classifier checkpoint."""
from __future__ import annotations

import dataclasses
import datetime
import json
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from moco_plugin.datasets.label_files import read_label_file
from moco_plugin.datasets.label_subset import LabelSubsetDataset, split_label_set
from moco_plugin.evaluation.feature_extraction import FeatureSet, make_eval_loader
from moco_plugin.evaluation.linear_probe import LinearProbeSettings
from moco_plugin.experiments.fewlabel_setup import (FewLabelModel, Log, backbone_of, extractor,
                                                    labelled_pool, load_config, split)
from moco_plugin.fewlabel.finetune import FinetuneSettings, finetune
from moco_plugin.fewlabel.pseudo_labels import check_different_teacher
from moco_plugin.fewlabel.recipes import load_recipe, save_classifier
from moco_plugin.fewlabel.teacher import Teacher, accuracy, train_teacher
from moco_plugin.registry import DATASETS
from moco_plugin.utils.atomic_io import atomic_write_text
from moco_plugin.utils.config_files import find_config


@dataclass
class FewLabelTraining:
    model: FewLabelModel
    labels: str
    out: str
    recipe: str = 'resnet18_linear-fewlabel_cifar10'
    pseudo_labels: List[str] = field(default_factory=list)
    allow_same_teacher: bool = False
    epochs: Optional[int] = None
    val_fraction: Optional[float] = None


def _on_features(recipe, features, backbone, pool_set, pool_cfg, test_set, test_cfg, held_out,
                 indices, targets, num_classes, seed, result):
    pool = features.features(backbone, pool_set, pool_cfg)
    test = (FeatureSet(pool.features[held_out.indices], held_out.labels)
            if held_out is not None else features.features(backbone, test_set, test_cfg))
    train = FeatureSet(pool.features[indices], targets)
    if recipe.mode == 'linear':
        settings = LinearProbeSettings(**recipe.probe)
        teacher = train_teacher('linear', train, num_classes, test, settings, seed)
        result['settings'] = dataclasses.asdict(settings)
    else:
        teacher = Teacher('knn', num_classes, bank=train, k=recipe.knn.k,
                          temperature=recipe.knn.temperature)
        teacher.top1, teacher.top5 = accuracy(teacher.probabilities(test.features), test.labels)
        result['settings'] = dict(recipe.knn)
    result.update(top1=teacher.top1, top5=teacher.top5)
    return teacher.head.state_dict() if teacher.head is not None else None


def _fine_tuned(recipe, request, features, backbone, pool_cfg, labels, test_set, num_classes,
                result):
    opts = request.model.extraction
    train_dataset_cfg = dict(pool_cfg, pipeline=list(recipe.train_pipeline))
    train_set = LabelSubsetDataset(DATASETS.build(train_dataset_cfg), label_set=labels,
                                   extra_label_files=request.pseudo_labels)
    settings = FinetuneSettings(**recipe.finetune, seed=request.model.seed)
    generator = torch.Generator().manual_seed(request.model.seed)
    train_loader = torch.utils.data.DataLoader(
        train_set, batch_size=min(settings.batch_size, len(train_set)), shuffle=True,
        num_workers=opts.num_workers, drop_last=len(train_set) > settings.batch_size,
        generator=generator)
    model = backbone.model.to(features.runtime(None).device)  # fine-tuned in fp32
    classifier, metrics, curve = finetune(
        model.backbone, model.data_preprocessor, model.backbone.out_channels, num_classes,
        train_loader, make_eval_loader(test_set, opts.batch_size, opts.num_workers), settings,
        progress=opts.progress)
    result.update(metrics, settings=dataclasses.asdict(settings), curve=curve)
    return classifier.state_dict()


def train_few_labels(request: FewLabelTraining, log: Log) -> Dict[str, Any]:
    """Train, evaluate and write the result JSON (and ``<out stem>_classifier.pth``)."""
    started = time.perf_counter()
    model = request.model
    recipe = load_recipe(request.recipe, request.epochs)
    cfg = load_config(model)
    pool_set, pool_cfg, labels = labelled_pool(cfg, model, request.labels)
    held_out = None
    if request.val_fraction:  # a validation set cut from the labels, never trained on
        labels, held_out = split_label_set(labels, request.val_fraction, model.seed)
        test_set, test_cfg = LabelSubsetDataset(pool_set, label_set=held_out), pool_cfg
    else:
        test_set, test_cfg = split(cfg, model, 'test', pool=pool_set)
    pseudo = [read_label_file(p, pool_set, labels.fingerprint) for p in request.pseudo_labels]
    indices = np.concatenate([labels.indices] + [p.indices for p in pseudo])
    targets = np.concatenate([labels.labels] + [p.labels for p in pseudo])
    if len(np.unique(indices)) != len(indices):
        raise ValueError('the pseudo-label files name labelled images (or each other\'s); '
                         'pseudo-label only the unlabelled images')
    num_classes = len(pool_set.classes)
    backbone = backbone_of(cfg, model)
    for path, file in zip(request.pseudo_labels, pseudo):  # the report: a *different* teacher
        warning = check_different_teacher(file.meta.get('teacher_weights_sha256'),
                                          backbone.weights_sha256, request.allow_same_teacher)
        if warning:
            log(f'{path}: {warning}')
    stem = osp.splitext(request.out)[0]
    result: Dict[str, Any] = dict(
        mode=recipe.mode, recipe=str(find_config(request.recipe)), config=model.config,
        checkpoint=model.checkpoint, checkpoint_sha256=backbone.checkpoint_sha256,
        weights_sha256=backbone.weights_sha256, n_labels=int(len(labels)),
        n_pseudo=int(len(indices) - len(labels)), pseudo_label_files=request.pseudo_labels,
        labels_file=request.labels, n_test=len(test_set), seed=model.seed,
        evaluated_on=(f'--val-fraction {request.val_fraction} of the labels'
                      if held_out is not None
                      else model.data.test_data or f"the config's {test_cfg['split']} split"))
    features = extractor(model, log)
    tick = time.perf_counter()
    if recipe.mode in ('linear', 'knn'):
        state = _on_features(recipe, features, backbone, pool_set, pool_cfg, test_set, test_cfg,
                             held_out, indices, targets, num_classes, model.seed, result)
    else:
        state = _fine_tuned(recipe, request, features, backbone, pool_cfg, labels, test_set,
                            num_classes, result)
    result['train_s'] = round(time.perf_counter() - tick, 2)
    if state is not None:
        head_path = f'{stem}_classifier.pth'
        normalize = bool(result.get('settings', {}).get('normalize', False))
        save_classifier(state, dict(num_classes=num_classes, classes=list(pool_set.classes),
                                    normalize=normalize,
                                    mode=recipe.mode, checkpoint_sha256=backbone.checkpoint_sha256,
                                    top1=result['top1'], top5=result['top5']), head_path)
        result['classifier_checkpoint'] = head_path
    result['total_s'] = round(time.perf_counter() - started, 2)
    result['precision'] = features.precision_choice  # of the feature extraction
    result['created'] = datetime.datetime.now().isoformat(timespec='seconds')
    atomic_write_text(json.dumps(result, indent=1), request.out)
    log(f"{recipe.mode} on {len(labels)} labels + {result['n_pseudo']} pseudo-labels: "
        f"top-1 {result['top1']:.2f}, top-5 {result['top5']:.2f} ({result['train_s']} s); "
        f'written to {request.out}')
    return result
