#!/usr/bin/env python
"""Feature extraction in fp32 vs bf16 autocast, side by side in one process (CPU).

Times ``extract_features`` over the same CIFAR-10 test images in alternating rounds
(fp32, bf16, fp32, ...) so both see the same machine load, and compares the features::

    MOCO_DATA_ROOT=../shared/datasets/cifar10 python benchmarks/scripts/eval_precision.py \
        work_dirs/quickstart/epoch_2.pth --images 2048 --rounds 3

The k-NN top-1 of each precision on the full splits comes from the benchmark tool
(``--precision fp32`` / default), see benchmarks/results/transfer/README.md.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

CONFIG = 'mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--images', type=int, default=2048)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=256)
    parser.add_argument('--image-size', type=int, default=32,
                        help='evaluation crop (the CIFAR-10 images are resized to it)')
    args = parser.parse_args()

    from mmengine.config import Config

    from moco_plugin.evaluation import extract_features, make_eval_loader
    from moco_plugin.evaluation.eval_datasets import build_eval_dataset, eval_dataset_cfg
    from moco_plugin.registry import MODELS
    from moco_plugin.utils.config_files import find_config, pretraining_dataset_cfg
    from moco_plugin.zoo.backbone_loading import load_backbone_weights

    cfg = Config.fromfile(str(find_config(args.config)))
    model = MODELS.build(cfg.model)
    load_backbone_weights(model, args.checkpoint)
    model.eval()
    dataset = build_eval_dataset(eval_dataset_cfg(pretraining_dataset_cfg(cfg), 'test', image_size=args.image_size,
                                                  subset_size=args.images, in_memory=True))
    loader = make_eval_loader(dataset, args.batch_size, num_workers=0)
    extract_features(model, loader, amp=True, progress=False)  # warm-up of both paths
    extract_features(model, loader, amp=False, progress=False)
    rates = {'fp32': [], 'bf16': []}
    for _ in range(args.rounds):
        for name, amp in (('fp32', False), ('bf16', True)):
            start = time.perf_counter()
            feats = extract_features(model, loader, amp=amp, progress=False)
            rates[name].append(len(dataset) / (time.perf_counter() - start))
            if name == 'fp32':
                fp32 = feats.features
            else:
                bf16 = feats.features
    cosine = torch.nn.functional.cosine_similarity(torch.as_tensor(fp32), torch.as_tensor(bf16))
    print(f'{len(dataset)} images at {args.image_size} px, batch {args.batch_size}, '
          f'{torch.get_num_threads()} threads, '
          f'{args.rounds} alternating rounds')
    for name, values in rates.items():
        print(f'{name}: {min(values):.0f}-{max(values):.0f} img/s (median {statistics.median(values):.0f})')
    ratios = [b / f for f, b in zip(rates['fp32'], rates['bf16'])]
    print(f'bf16 / fp32 per round: {", ".join(f"{r:.2f}" for r in ratios)}')
    print(f'feature cosine fp32 vs bf16: min {cosine.min():.4f}, mean {cosine.mean():.4f}')


if __name__ == '__main__':
    main()
