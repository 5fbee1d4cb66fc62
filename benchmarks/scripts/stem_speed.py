#!/usr/bin/env python
"""MoCo v2 training-step rate of ResNet-18 with each stem on 32x32 inputs (bf16, CPU).

Builds the fast-augmentation CIFAR-10 MoCo v2 model three times: the ImageNet stem
(7x7/2 conv + max-pool), the same without the max-pool (``stem_pool=False``) and the
CIFAR stem (3x3/1 conv, no pool), and times forward + backward + SGD step + queue write on
in-memory random views after one warm-up step::

    python benchmarks/scripts/stem_speed.py                 # batch 128, 3 timed steps
    python benchmarks/scripts/stem_speed.py --steps 10
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
sys.path.insert(0, REPO_ROOT)
STEMS = {'imagenet': dict(cifar_stem=False), 'imagenet-nopool': dict(cifar_stem=False, stem_pool=False),
         'cifar': dict(cifar_stem=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--steps', type=int, default=3)
    args = parser.parse_args()
    if args.batch_size < 8 or args.batch_size % 8 or args.steps < 1:
        parser.error('--batch-size must be a multiple of 8 (split-BN 8) and --steps >= 1')

    from mmengine.config import Config

    import moco_plugin  # noqa: F401  (registers the components)
    from benchmarks.scripts.resolution_cost import make_train_step, timed
    from moco_plugin.registry import MODELS

    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py'))
    cfg.model.data_preprocessor.batch_augment = None
    views = [torch.randn(args.batch_size, 3, 32, 32), torch.randn(args.batch_size, 3, 32, 32)]
    for stem, backbone in STEMS.items():
        cfg.model.backbone.update(backbone)
        model = MODELS.build(cfg.model).train()
        seconds = timed(make_train_step(model, views), args.steps)
        print(f'{stem:16s} {args.batch_size / seconds:7.1f} img/s', flush=True)


if __name__ == '__main__':
    main()
