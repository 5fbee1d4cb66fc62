#!/usr/bin/env python
"""Host cost of one training batch: indices only (DeviceArrayDataset) vs collated uint8 views.

Both loaders run in this process (num_workers=0) over CIFAR-10 decoded in memory, with the
configs' sampler; the time per batch is what the training loop's host thread spends on data
before the step can be queued. The device path then gathers the images on the device.

    python benchmarks/scripts/loader_cost.py --data-root DIR [--batch-size 512] [--batches 40]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from mmengine.dataset import DefaultSampler, default_collate
from torch.utils.data import DataLoader

from moco_plugin.datasets import CIFAR10, DeviceArrayDataset


def per_batch_ms(dataset, batch_size: int, batches: int) -> float:
    loader = DataLoader(dataset, batch_size=batch_size, sampler=DefaultSampler(dataset, seed=0),
                        collate_fn=default_collate, drop_last=True, num_workers=0)
    times, start = [], time.perf_counter()
    for i, _ in enumerate(loader):
        now = time.perf_counter()
        times.append(now - start)
        start = now
        if i + 1 == batches:
            break
    return 1e3 * statistics.median(times[1:])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data-root', default=os.environ.get('MOCO_DATA_ROOT'))
    parser.add_argument('--batch-size', type=int, default=512)
    parser.add_argument('--batches', type=int, default=40)
    args = parser.parse_args(argv)
    views = CIFAR10(args.data_root, in_memory=True,
                    pipeline=[dict(type='UnaugmentedViews', num_views=2)])
    indices = DeviceArrayDataset(dict(type='CIFAR10', data_root=args.data_root, in_memory=True))
    result = dict(batch_size=args.batch_size,
                  uint8_views_ms=round(per_batch_ms(views, args.batch_size, args.batches), 2),
                  indices_only_ms=round(per_batch_ms(indices, args.batch_size, args.batches), 2))
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
