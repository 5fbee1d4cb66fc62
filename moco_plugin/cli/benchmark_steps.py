"""The benchmarks of ``tools/benchmark_linear.py``, one function each, on a prepared context.

Each returns the part of the result JSON it measured and records its time in ``ctx.times``.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any, Dict

import torch

from moco_plugin.cli.benchmark_setup import BenchmarkContext, Log
from moco_plugin.evaluation import (LinearProbeSettings, knn_classify, knn_classify_torch,
                                    linear_probe_on_features, linear_probe_with_augmentation,
                                    plot_linear_curve, resolve_knn_backend, retrieval_grid,
                                    save_linear_head)
from moco_plugin.evaluation.eval_datasets import build_eval_dataset, image_groups
from moco_plugin.evaluation.feature_map import plot_feature_map, tsne_map
from moco_plugin.evaluation.few_shot import few_shot_episodes, few_shot_full_test
from moco_plugin.evaluation.linear_lr_sweep import sweep_linear_lr


def run_knn(ctx: BenchmarkContext, args: argparse.Namespace, log: Log) -> Dict[str, Any]:
    """Weighted k-NN of the test features against the training features, for every ``--k``."""
    tick = time.perf_counter()
    device = next(ctx.model.parameters()).device
    # on a GPU: matrix product + top-k there (no faiss needed); on a CPU: faiss
    classify = knn_classify_torch if resolve_knn_backend('auto', device) == 'torch' else knn_classify
    extra = dict(device=device) if classify is knn_classify_torch else {}
    scores = classify(ctx.train_feats.features, ctx.train_feats.labels, ctx.test_feats.features,
                      ctx.test_feats.labels, args.k, args.temperature, ctx.num_classes, **extra)
    ctx.times['knn_s'] = time.perf_counter() - tick
    for k, v in scores.items():
        log(f"k-NN k={k} (used {v['k_used']}), T={args.temperature}: "
            f"top-1 {v['top1']:.2f}%, top-5 {v['top5']:.2f}%")
    return dict(knn={str(k): v for k, v in scores.items()}, knn_temperature=args.temperature)


def _linear_settings(args: argparse.Namespace) -> LinearProbeSettings:
    return LinearProbeSettings(
        epochs=args.linear_epochs, lr=args.linear_lr[0], momentum=args.linear_momentum,
        weight_decay=args.linear_wd, batch_size=args.linear_batch_size,
        schedule=args.linear_schedule, normalize=args.linear_normalize, seed=args.seed)


def _augmented_loader(ctx: BenchmarkContext, args: argparse.Namespace):
    # The training split exactly as evaluated (type, root, split, classes, subset), newly cropped.
    pipeline = [dict(type='RandomResizedCropFlip', size=ctx.image_size)]
    dataset = build_eval_dataset(dict(ctx.train_cfg, pipeline=pipeline))
    return torch.utils.data.DataLoader(dataset, batch_size=args.linear_batch_size, shuffle=True,
                                       num_workers=args.num_workers, drop_last=False)


def run_linear(ctx: BenchmarkContext, args: argparse.Namespace, log: Log) -> Dict[str, Any]:
    """Linear probe (lr chosen on held-out training images when several are given)."""
    settings = _linear_settings(args)
    tick = time.perf_counter()
    sweep = None
    if len(args.linear_lr) > 1:
        groups = image_groups(ctx.train_set, args.holdout_group) if args.holdout_group else None
        sweep = sweep_linear_lr(ctx.train_feats, args.linear_lr, settings,
                                args.linear_val_fraction, ctx.num_classes, not args.quiet, log,
                                groups=groups)
        settings = dataclasses.replace(settings, lr=sweep.selected_lr)
        ctx.times['linear_sweep_s'] = time.perf_counter() - tick
        log(f'lr sweep on {sweep.n_val} held-out training images: selected lr '
            f'{sweep.selected_lr:g}; retraining on all {len(ctx.train_feats)} training images')
    if args.linear_aug:
        probe = linear_probe_with_augmentation(ctx.model, _augmented_loader(ctx, args),
                                               ctx.test_feats, settings, ctx.num_classes,
                                               args.amp, not args.quiet)
    else:
        probe = linear_probe_on_features(ctx.train_feats, ctx.test_feats, settings,
                                         ctx.num_classes, not args.quiet)
    ctx.times['linear_s'] = time.perf_counter() - tick
    head_path, curve_path = f'{ctx.stem}_linear_head.pth', f'{ctx.stem}_linear_curve.png'
    save_linear_head(probe, head_path, dict(
        algorithm=type(ctx.model).__name__, config=ctx.config_path, checkpoint=args.checkpoint,
        checkpoint_sha256=ctx.checkpoint_sha, weights_sha256=ctx.weights_sha,
        augment=args.linear_aug))
    plot_linear_curve(probe.curve, curve_path, f"{ctx.name}: linear probe "
                      f"({'augmented' if args.linear_aug else 'cached features'})")
    log(f'linear probe ({settings.epochs} epochs): top-1 {probe.top1:.2f}%, '
        f'top-5 {probe.top5:.2f}%; head saved to {head_path}')
    return dict(linear=dict(
        top1=probe.top1, top5=probe.top5, best_top1=max(c['top1'] for c in probe.curve),
        augment=args.linear_aug,
        settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.__dict__.items()},
        lr_sweep=sweep.to_json() if sweep is not None else None, head_checkpoint=head_path,
        curve_png=curve_path, curve=probe.curve))


def run_retrieval(ctx: BenchmarkContext, args: argparse.Namespace, log: Log) -> Dict[str, Any]:
    """A PNG of ``--retrieval`` test images and their 8 nearest training images."""
    tick = time.perf_counter()
    picture = f'{ctx.stem}_retrieval.png'
    retrieval_grid(ctx.test_feats, ctx.train_feats, ctx.test_set, ctx.train_set, picture,
                   num_queries=args.retrieval, k=8, seed=args.seed,
                   class_names=getattr(ctx.train_set, 'classes', None))
    ctx.times['retrieval_s'] = time.perf_counter() - tick
    log(f'retrieval picture saved to {picture}')
    return dict(retrieval_png=picture)


def run_few_shot(ctx: BenchmarkContext, args: argparse.Namespace, log: Log) -> Dict[str, Any]:
    """N-way K-shot accuracy (mean and 95 % interval) for every ``--few-shot`` and classifier."""
    tick = time.perf_counter()
    rows = []
    for n_way, k_shot in args.few_shot:
        for classifier in args.few_shot_classifier:
            if args.few_shot_full:
                result = few_shot_full_test(ctx.train_feats.features, ctx.train_feats.labels,
                                            ctx.test_feats.features, ctx.test_feats.labels,
                                            k_shot, [args.seed, args.seed + 1, args.seed + 2],
                                            classifier)
            else:
                result = few_shot_episodes(ctx.test_feats.features, ctx.test_feats.labels, n_way,
                                           k_shot, args.few_shot_queries, args.few_shot_episodes,
                                           args.seed, classifier)
            rows.append(dict(result.to_json(), full_test=args.few_shot_full))
            what = (f'{result.n_way}-way (all classes) {k_shot}-shot, full test split'
                    if args.few_shot_full else f'{n_way}-way {k_shot}-shot, '
                    f'{len(result.accuracies)} episodes')
            log(f'few-shot {what}, {classifier}: {result.mean:.2f}% +- {result.ci95:.2f}')
            if args.few_shot_full:
                break  # the way is every class: one row per shot and classifier
    ctx.times['few_shot_s'] = time.perf_counter() - tick
    return dict(few_shot=rows)


def run_feature_map(ctx: BenchmarkContext, args: argparse.Namespace, log: Log) -> Dict[str, Any]:
    """t-SNE of ``--feature-map`` test images (class-balanced, seeded) as a PNG and its points."""
    tick = time.perf_counter()
    points, labels = tsne_map(ctx.test_feats.features, ctx.test_feats.labels, args.feature_map,
                              args.seed)
    picture = f'{ctx.stem}_feature_map.png'
    plot_feature_map([(ctx.name, points, labels)], picture,
                     class_names=getattr(ctx.test_set, 'classes', None))
    ctx.times['feature_map_s'] = time.perf_counter() - tick
    log(f'feature map of {len(labels)} test images saved to {picture}')
    return dict(feature_map=dict(png=picture, points=points.round(3).tolist(),
                                 labels=labels.tolist()))
