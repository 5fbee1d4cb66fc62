#!/usr/bin/env python
"""Same-process A/B of the MoCo v2 training step: eager vs ``torch.compile``d encoders.

Builds two identical MoCo v2 models (the fast-augmentation CIFAR-10 config with the
ImageNet stem, batch 256, as ``benchmarks/scripts/throughput.py``), compiles the backbone and neck
of both encoders of one of them (``nn.Module.compile``, so state-dict keys are unchanged),
and times forward + backward + SGD + EMA + queue write on the same in-memory views,
alternating 6 windows of 5 steps between the two. Prints each median and their ratio::

    python benchmarks/scripts/model_compile_ab.py          # fp32
    python benchmarks/scripts/model_compile_ab.py --amp    # bf16 autocast
"""
from __future__ import annotations

import argparse
import os.path as osp
import statistics
import sys
import time

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))  # repo root
sys.path.insert(0, REPO_ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--windows', type=int, default=6)
    parser.add_argument('--iters', type=int, default=5)
    args = parser.parse_args()

    from mmengine.config import Config

    import moco_plugin  # noqa: F401  (registers the components)
    from moco_plugin.engine.hooks.momentum_update_hook import ema_update_
    from moco_plugin.registry import MODELS

    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py'))
    cfg.model.backbone.cifar_stem = False
    cfg.model.data_preprocessor.batch_augment = None

    def build(compiled: bool):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).train()
        if compiled:
            for module in (model.backbone, model.neck, model.key_backbone, model.key_neck):
                module.compile(dynamic=False)
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.03,
                                    momentum=0.9, weight_decay=5e-4)
        return model, optimizer

    views = [torch.randn(args.batch_size, 3, 32, 32), torch.randn(args.batch_size, 3, 32, 32)]

    def step(model, optimizer) -> None:
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.amp):
            loss = model.loss(views)['loss']
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        for online, target in model.momentum_pairs():
            ema_update_(target, online, 0.99)
        model.queue.flush()

    variants = {'eager': build(False), 'compiled': build(True)}
    start = time.perf_counter()
    for model, optimizer in variants.values():
        for _ in range(3):
            step(model, optimizer)
    print(f'warm-up (including compilation): {time.perf_counter() - start:.0f} s')
    rates = {name: [] for name in variants}
    for _ in range(args.windows):
        for name, (model, optimizer) in variants.items():
            start = time.perf_counter()
            for _ in range(args.iters):
                step(model, optimizer)
            rates[name].append(args.iters * args.batch_size / (time.perf_counter() - start))
    for name, values in rates.items():
        print(f'{name:9s} median {statistics.median(values):6.1f} img/s  windows {[round(v) for v in values]}')
    print(f"compiled / eager: {statistics.median(rates['compiled']) / statistics.median(rates['eager']):.3f}")


if __name__ == '__main__':
    main()
