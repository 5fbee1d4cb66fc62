#!/usr/bin/env python
"""Per-image cost of a MoCo v2 training step and of feature extraction, per config (CPU, bf16).

For the first source report's comparison: CIFAR-10 at 224 px with the ImageNet stem vs native
32 px with the CIFAR stem, ResNet-50 and ResNet-18. Each config's model is built, fed random
views at the size it trains on, and timed after one warm-up step, all configs in one process
so the ratios are measured side by side::

    python benchmarks/scripts/resolution_cost.py                       # the four configs, batch 32
    python benchmarks/scripts/resolution_cost.py --steps 5 --batch-size 64

A training step is forward of both encoders + backward + SGD step + queue write (the
momentum update and augmentation are left out: they cost the same per image at any depth).
"""
from __future__ import annotations

import argparse
import time

import torch

CONFIGS = ['mocov2_resnet18_1xb256-coslr-200e_cifar10',             # R18, CIFAR stem, 32 px
           'mocov2_resnet18_1xb256-coslr-200e_cifar10-224px',       # R18, ImageNet stem, 224 px
           'mocov2_resnet50_1xb256-coslr-200e_cifar10',             # R50, CIFAR stem, 32 px
           'mocov2_resnet50_1xb256-coslr-200e_cifar10-224px']       # R50, ImageNet stem, 224 px


def make_train_step(model, views):
    """A MoCo training step on fixed views: bf16 forward of both encoders, backward, SGD
    step and the queue write."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_step() -> None:
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = model.loss(views)['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.queue.flush()
    return train_step


def timed(fn, steps: int) -> float:
    fn()  # warm-up: oneDNN picks its kernels on the first call
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--configs', nargs='+', default=CONFIGS)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--steps', type=int, default=3)
    args = parser.parse_args()
    if args.batch_size < 8 or args.batch_size % 8 or args.steps < 1:
        parser.error('--batch-size must be a multiple of 8 (split-BN 8) and --steps >= 1')

    from mmengine.config import Config

    import moco_plugin  # noqa: F401  (registers the components)
    from moco_plugin.registry import MODELS
    from moco_plugin.utils.config_files import find_config, training_image_size

    print(f'| config | depth | stem | px | train step img/s | s per 1k images | '
          f'extraction img/s |\n|---|---|---|---|---|---|---|', flush=True)
    for name in args.configs:
        cfg = Config.fromfile(str(find_config(name)))
        size = training_image_size(cfg) or 32
        cfg.model.data_preprocessor.batch_augment = None
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).train()
        views = [torch.randn(args.batch_size, 3, size, size) for _ in range(2)]
        train_step = make_train_step(model, views)

        def extract() -> None:
            with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
                model.backbone(views[0])

        step_s = timed(train_step, args.steps)
        model.eval()
        extract_s = timed(extract, args.steps)
        backbone = cfg.model.backbone
        print(f'| {name} | {backbone.depth} | {"CIFAR" if backbone.get("cifar_stem") else "ImageNet"}'
              f' | {size} | {args.batch_size / step_s:.1f} | {1000 * step_s / args.batch_size:.1f} | '
              f'{args.batch_size / extract_s:.1f} |', flush=True)


if __name__ == '__main__':
    main()
