"""``tools/train_few_labels.py CONFIG CHECKPOINT --labels L [--pseudo-labels P] --recipe R``.

Trains a classifier on the labelled (and pseudo-labelled) images over any checkpoint's
backbone and reports top-1 / top-5 on the untouched test split. Recipes
(``moco_plugin/configs/fewlabel/``): a linear probe on frozen, cached features
(``resnet18_linear-fewlabel_cifar10``), weighted k-NN (``resnet18_knn-20nn_cifar10``) or
full fine-tuning with a backbone lr multiplier
(``finetune_resnet18_1xb64-coslr-30e-bblr0.1_cifar10``)::

    python tools/train_few_labels.py work_dirs/fewlabel_pretrain/mocov2/config.py \\
        work_dirs/fewlabel_pretrain/mocov2/epoch_2.pth --labels labels.json \\
        --recipe resnet18_linear-fewlabel_cifar10 --out work_dirs/fewlabel/mocov2_250.json

The trained classifier is kept as its own checkpoint (``<out stem>_classifier.pth``).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import io
import json
import os.path as osp
import time
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config

from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.fewlabel_common import (add_model_arguments, build_split, features_of,
                                             load_config, load_model, log, pool_and_labels,
                                             runtime_choice)
from moco_plugin.datasets.label_files import read_label_file
from moco_plugin.datasets.label_subset import LabelSubsetDataset, split_label_set
from moco_plugin.evaluation.feature_extraction import FeatureSet, make_eval_loader
from moco_plugin.evaluation.linear_probe import LinearProbeSettings
from moco_plugin.fewlabel.finetune import FinetuneSettings, finetune
from moco_plugin.fewlabel.pseudo_labels import check_different_teacher
from moco_plugin.fewlabel.teacher import Teacher, accuracy, train_teacher
from moco_plugin.registry import DATASETS
from moco_plugin.utils.atomic_io import atomic_write_bytes, atomic_write_text
from moco_plugin.utils.config_files import find_config

PROG = 'train_few_labels.py'
MODES = ('linear', 'knn', 'finetune')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument('--labels', required=True, help='label file')
    parser.add_argument('--pseudo-labels', nargs='+', default=[], help='pseudo-label files')
    parser.add_argument('--allow-same-teacher', action='store_true', help='warn instead of '
                        'refusing pseudo-labels whose teacher has this backbone\'s weights')
    parser.add_argument('--recipe', default='resnet18_linear-fewlabel_cifar10',
                        help='few-label config (path or name in configs/fewlabel/)')
    parser.add_argument('--epochs', type=int, help="override the recipe's epochs")
    parser.add_argument('--val-fraction', type=float, metavar='F',
                        help='evaluate on a stratified, seeded share F of the labels (held out '
                             'of training) instead of a test set')
    parser.add_argument('--out', required=True, help='result JSON')
    args = parser.parse_args(argv)
    if args.val_fraction is not None:
        if not 0 < args.val_fraction < 1:
            parser.error(f'--val-fraction must be in (0, 1), got {args.val_fraction}')
        if args.test_data:
            parser.error('--val-fraction and --test-data both name what is evaluated; pass one')
    return args


def load_recipe(name: str, epochs: Optional[int]) -> Config:
    recipe = Config.fromfile(str(find_config(name)))
    if recipe.get('mode') not in MODES:
        raise ValueError(f"recipe {name} has mode {recipe.get('mode')!r}; a few-label recipe sets "
                         f"mode to one of {', '.join(MODES)} (see configs/fewlabel/)")
    if epochs is not None:
        recipe[recipe.mode if recipe.mode == 'finetune' else 'probe']['epochs'] = epochs
    return recipe


def save_classifier(state: Dict[str, torch.Tensor], meta: Dict[str, Any], path: str) -> None:
    buffer = io.BytesIO()
    torch.save(dict(state_dict={k: v.detach().cpu() for k, v in state.items()}, meta=meta), buffer)
    atomic_write_bytes(buffer.getvalue(), path)


def train_few_labels(args: argparse.Namespace) -> Dict[str, Any]:
    started = time.perf_counter()
    recipe = load_recipe(args.recipe, args.epochs)
    cfg = load_config(args)
    pool_set, pool_cfg, labels = pool_and_labels(cfg, args, args.labels, args.checkpoint)
    held_out = None
    if args.val_fraction:  # a validation set cut from the labels, never trained on
        labels, held_out = split_label_set(labels, args.val_fraction, args.seed)
        test_set, test_cfg = LabelSubsetDataset(pool_set, label_set=held_out), pool_cfg
    else:
        test_set, test_cfg = build_split(cfg, args, 'test', args.checkpoint, pool=pool_set)
    pseudo = [read_label_file(p, pool_set, labels.fingerprint) for p in args.pseudo_labels]
    indices = np.concatenate([labels.indices] + [p.indices for p in pseudo])
    targets = np.concatenate([labels.labels] + [p.labels for p in pseudo])
    if len(np.unique(indices)) != len(indices):
        raise ValueError('the pseudo-label files name labelled images (or each other\'s); '
                         'pseudo-label only the unlabelled images')
    num_classes = len(pool_set.classes)
    backbone = load_model(cfg, args.checkpoint, args.seed)
    for path, file in zip(args.pseudo_labels, pseudo):  # the report: a *different* teacher
        warning = check_different_teacher(file.meta.get('teacher_weights_sha256'),
                                          backbone.weights_sha256, args.allow_same_teacher)
        if warning:
            log(PROG, f'{path}: {warning}')
    stem = osp.splitext(args.out)[0]
    result: Dict[str, Any] = dict(
        mode=recipe.mode, recipe=str(find_config(args.recipe)), config=args.config,
        checkpoint=args.checkpoint, checkpoint_sha256=backbone.checkpoint_sha256,
        weights_sha256=backbone.weights_sha256, n_labels=int(len(labels)),
        n_pseudo=int(len(indices) - len(labels)), pseudo_label_files=args.pseudo_labels,
        labels_file=args.labels, n_test=len(test_set), seed=args.seed,
        evaluated_on=(f'--val-fraction {args.val_fraction} of the labels' if held_out is not None
                      else args.test_data or f"the config's {test_cfg['split']} split"))
    tick = time.perf_counter()
    if recipe.mode in ('linear', 'knn'):
        pool = features_of(backbone, pool_set, pool_cfg, args, PROG)
        test = (FeatureSet(pool.features[held_out.indices], held_out.labels)
                if held_out is not None else features_of(backbone, test_set, test_cfg, args, PROG))
        train = FeatureSet(pool.features[indices], targets)
        if recipe.mode == 'linear':
            settings = LinearProbeSettings(**recipe.probe)
            teacher = train_teacher('linear', train, num_classes, test, settings, args.seed)
            result['settings'] = dataclasses.asdict(settings)
        else:
            teacher = Teacher('knn', num_classes, bank=train, k=recipe.knn.k,
                              temperature=recipe.knn.temperature)
            teacher.top1, teacher.top5 = accuracy(teacher.probabilities(test.features), test.labels)
            result['settings'] = dict(recipe.knn)
        result.update(top1=teacher.top1, top5=teacher.top5)
        state = teacher.head.state_dict() if teacher.head is not None else None
    else:
        train_dataset_cfg = dict(pool_cfg, pipeline=list(recipe.train_pipeline))
        train_set = LabelSubsetDataset(DATASETS.build(train_dataset_cfg), label_set=labels,
                                       extra_label_files=args.pseudo_labels)
        settings = FinetuneSettings(**recipe.finetune, seed=args.seed)
        generator = torch.Generator().manual_seed(args.seed)
        train_loader = torch.utils.data.DataLoader(
            train_set, batch_size=min(settings.batch_size, len(train_set)), shuffle=True,
            num_workers=args.num_workers, drop_last=len(train_set) > settings.batch_size,
            generator=generator)
        model = backbone.model.to(runtime_choice(args, None).device)  # fine-tuned in fp32
        classifier, metrics, curve = finetune(
            model.backbone, model.data_preprocessor, model.backbone.out_channels, num_classes,
            train_loader, make_eval_loader(test_set, args.batch_size, args.num_workers), settings,
            progress=not args.quiet)
        result.update(metrics, settings=dataclasses.asdict(settings), curve=curve)
        state = classifier.state_dict()
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
    result['precision'] = getattr(args, 'precision_choice', None)  # of the feature extraction
    result['created'] = datetime.datetime.now().isoformat(timespec='seconds')
    atomic_write_text(json.dumps(result, indent=1), args.out)
    log(PROG, f"{recipe.mode} on {len(labels)} labels + {result['n_pseudo']} pseudo-labels: "
        f"top-1 {result['top1']:.2f}, top-5 {result['top5']:.2f} ({result['train_s']} s); "
        f'written to {args.out}')
    return result


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    run_cli(PROG, lambda: train_few_labels(args))


if __name__ == '__main__':
    main()
