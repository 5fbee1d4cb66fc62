#!/usr/bin/env python
"""Write scikit-learn's bundled handwritten digits (UCI optdigits test part: 1,797 real 8x8
grayscale scans, 10 classes) as ``train/<digit>/*.png`` and ``test/<digit>/*.png`` folders,
upscaled to 32 px: a second real dataset that needs no download (it ships inside the
scikit-learn wheel), for transfer tables.

    python benchmarks/scripts/make_digits_dataset.py work_dirs/digits   # 1,257 train / 540 test
"""
from __future__ import annotations

import argparse
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def write_digits(out: str, test_fraction: float = 0.3, seed: int = 0, size: int = 32) -> dict:
    digits = load_digits()
    rng = np.random.default_rng(seed)
    counts = {'train': 0, 'test': 0}
    for label in range(10):
        members = rng.permutation(np.flatnonzero(digits.target == label))
        n_test = int(round(test_fraction * len(members)))
        for rank, index in enumerate(members):
            split = 'test' if rank < n_test else 'train'
            folder = os.path.join(out, split, str(label))
            os.makedirs(folder, exist_ok=True)
            # 0..16 ink levels -> white background, dark ink, as a scan would look
            pixels = (255 - digits.images[index] * (255 / 16)).astype(np.uint8)
            Image.fromarray(pixels, mode='L').resize((size, size), Image.BICUBIC).save(
                os.path.join(folder, f'{index:04d}.png'))
            counts[split] += 1
    return counts


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', help='folder to write train/ and test/ into')
    args = parser.parse_args()
    print(write_digits(args.out))
