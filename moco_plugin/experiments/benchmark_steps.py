"""The benchmarks of ``tools/benchmark.py``, one function each, on a prepared context.

Each returns the part of the result JSON it measured and records its time in ``ctx.times``.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Dict

import torch

from moco_plugin.evaluation import (LinearProbeSettings, knn_classify, knn_classify_torch,
                                    linear_probe_on_features, linear_probe_with_augmentation,
                                    plot_linear_curve, resolve_knn_backend, retrieval_grid,
                                    save_linear_head)
from moco_plugin.evaluation.eval_datasets import build_eval_dataset, image_groups
from moco_plugin.evaluation.feature_map import plot_feature_map, tsne_map
from moco_plugin.evaluation.few_shot import few_shot_episodes, few_shot_full_test
from moco_plugin.evaluation.linear_lr_sweep import sweep_linear_lr
from moco_plugin.experiments.benchmark_settings import BenchmarkSettings
from moco_plugin.experiments.benchmark_setup import BenchmarkContext, Log


def run_knn(ctx: BenchmarkContext, settings: BenchmarkSettings, log: Log) -> Dict[str, Any]:
    """Weighted k-NN of the test features against the training features, for every ``--k``."""
    tick = time.perf_counter()
    device = next(ctx.model.parameters()).device
    # on a GPU: matrix product + top-k there (no faiss needed); on a CPU: faiss
    classify = knn_classify_torch if resolve_knn_backend('auto', device) == 'torch' else knn_classify
    extra = dict(device=device) if classify is knn_classify_torch else {}
    scores = classify(ctx.train_feats.features, ctx.train_feats.labels, ctx.test_feats.features,
                      ctx.test_feats.labels, settings.k, settings.temperature, ctx.num_classes,
                      **extra)
    ctx.times['knn_s'] = time.perf_counter() - tick
    for k, v in scores.items():
        log(f"k-NN k={k} (used {v['k_used']}), T={settings.temperature}: "
            f"top-1 {v['top1']:.2f}%, top-5 {v['top5']:.2f}%")
    return dict(knn={str(k): v for k, v in scores.items()}, knn_temperature=settings.temperature)


def _linear_settings(settings: BenchmarkSettings) -> LinearProbeSettings:
    return LinearProbeSettings(
        epochs=settings.linear_epochs, lr=settings.linear_lr[0],
        momentum=settings.linear_momentum,
        weight_decay=settings.linear_wd, batch_size=settings.linear_batch_size,
        schedule=settings.linear_schedule, normalize=settings.linear_normalize, seed=settings.seed)


def _augmented_loader(ctx: BenchmarkContext, settings: BenchmarkSettings):
    # The training split exactly as evaluated (type, root, split, classes, subset), newly cropped.
    pipeline = [dict(type='RandomResizedCropFlip', size=ctx.image_size)]
    dataset = build_eval_dataset(dict(ctx.train_cfg, pipeline=pipeline))
    return torch.utils.data.DataLoader(dataset, batch_size=settings.linear_batch_size,
                                       shuffle=True, num_workers=settings.num_workers,
                                       drop_last=False)


def run_linear(ctx: BenchmarkContext, settings: BenchmarkSettings, log: Log) -> Dict[str, Any]:
    """Linear probe (lr chosen on held-out training images when several are given)."""
    probe_settings = _linear_settings(settings)
    tick = time.perf_counter()
    sweep = None
    if len(settings.linear_lr) > 1:
        groups = (image_groups(ctx.train_set, settings.holdout_group)
                  if settings.holdout_group else None)
        sweep = sweep_linear_lr(ctx.train_feats, settings.linear_lr, probe_settings,
                                settings.linear_val_fraction, ctx.num_classes,
                                not settings.quiet, log, groups=groups)
        probe_settings = dataclasses.replace(probe_settings, lr=sweep.selected_lr)
        ctx.times['linear_sweep_s'] = time.perf_counter() - tick
        log(f'lr sweep on {sweep.n_val} held-out training images: selected lr '
            f'{sweep.selected_lr:g}; retraining on all {len(ctx.train_feats)} training images')
    if settings.linear_aug:
        probe = linear_probe_with_augmentation(ctx.model, _augmented_loader(ctx, settings),
                                               ctx.test_feats, probe_settings, ctx.num_classes,
                                               settings.amp, not settings.quiet)
    else:
        probe = linear_probe_on_features(ctx.train_feats, ctx.test_feats,
                                         probe_settings,
                                         ctx.num_classes, not settings.quiet)
    ctx.times['linear_s'] = time.perf_counter() - tick
    head_path, curve_path = f'{ctx.stem}_linear_head.pth', f'{ctx.stem}_linear_curve.png'
    save_linear_head(probe, head_path, dict(
        algorithm=type(ctx.model).__name__, config=ctx.config_path,
        checkpoint=settings.checkpoint,
        checkpoint_sha256=ctx.checkpoint_sha, weights_sha256=ctx.weights_sha,
        augment=settings.linear_aug))
    plot_linear_curve(probe.curve, curve_path, f"{ctx.name}: linear probe "
                      f"({'augmented' if settings.linear_aug else 'cached features'})")
    log(f'linear probe ({probe_settings.epochs} epochs): top-1 {probe.top1:.2f}%, '
        f'top-5 {probe.top5:.2f}%; head saved to {head_path}')
    return dict(linear=dict(
        top1=probe.top1, top5=probe.top5, best_top1=max(c['top1'] for c in probe.curve),
        augment=settings.linear_aug,
        settings={k: (list(v) if isinstance(v, tuple) else v)
                  for k, v in probe_settings.__dict__.items()},
        lr_sweep=sweep.to_json() if sweep is not None else None, head_checkpoint=head_path,
        curve_png=curve_path, curve=probe.curve))


def run_retrieval(ctx: BenchmarkContext, settings: BenchmarkSettings, log: Log) -> Dict[str, Any]:
    """A PNG of ``--retrieval`` test images and their 8 nearest training images."""
    tick = time.perf_counter()
    picture = f'{ctx.stem}_retrieval.png'
    retrieval_grid(ctx.test_feats, ctx.train_feats, ctx.test_set, ctx.train_set, picture,
                   num_queries=settings.retrieval, k=8, seed=settings.seed,
                   class_names=getattr(ctx.train_set, 'classes', None))
    ctx.times['retrieval_s'] = time.perf_counter() - tick
    log(f'retrieval picture saved to {picture}')
    return dict(retrieval_png=picture)


def run_few_shot(ctx: BenchmarkContext, settings: BenchmarkSettings, log: Log) -> Dict[str, Any]:
    """N-way K-shot accuracy (mean and 95 % interval) for every ``--few-shot`` and classifier."""
    tick = time.perf_counter()
    rows = []
    for n_way, k_shot in settings.few_shot:
        for classifier in settings.few_shot_classifier:
            if settings.few_shot_full:
                result = few_shot_full_test(ctx.train_feats.features, ctx.train_feats.labels,
                                            ctx.test_feats.features, ctx.test_feats.labels,
                                            k_shot,
                                            [settings.seed, settings.seed + 1, settings.seed + 2],
                                            classifier)
            else:
                result = few_shot_episodes(ctx.test_feats.features, ctx.test_feats.labels, n_way,
                                           k_shot, settings.few_shot_queries,
                                           settings.few_shot_episodes, settings.seed, classifier)
            rows.append(dict(result.to_json(), full_test=settings.few_shot_full))
            what = (f'{result.n_way}-way (all classes) {k_shot}-shot, full test split'
                    if settings.few_shot_full else f'{n_way}-way {k_shot}-shot, '
                    f'{len(result.accuracies)} episodes')
            log(f'few-shot {what}, {classifier}: {result.mean:.2f}% +- {result.ci95:.2f}')
            if settings.few_shot_full:
                break  # the way is every class: one row per shot and classifier
    ctx.times['few_shot_s'] = time.perf_counter() - tick
    return dict(few_shot=rows)


def run_feature_map(ctx: BenchmarkContext, settings: BenchmarkSettings, log: Log) -> Dict[str, Any]:
    """t-SNE of ``--feature-map`` test images (class-balanced, seeded) as a PNG and its points."""
    tick = time.perf_counter()
    points, labels = tsne_map(ctx.test_feats.features, ctx.test_feats.labels, settings.feature_map,
                              settings.seed)
    picture = f'{ctx.stem}_feature_map.png'
    plot_feature_map([(ctx.name, points, labels)], picture,
                     class_names=getattr(ctx.test_set, 'classes', None))
    ctx.times['feature_map_s'] = time.perf_counter() - tick
    log(f'feature map of {len(labels)} test images saved to {picture}')
    return dict(feature_map=dict(png=picture, points=points.round(3).tolist(),
                                 labels=labels.tolist()))
