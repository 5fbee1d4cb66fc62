#!/usr/bin/env python
"""The project's hand-written augmentation and download code against maintained libraries.

Three questions of issue 10 (item 5), each answered side by side in one process:

1. **Batched augmentation**: ``BatchMoCoAugment`` (eager, and compiled as the
   CPU configs run it) against ``kornia.augmentation`` set up as MoCo v1 / v2:
   views per second on the same float batch (interleaved repetitions, warm-up
   excluded), and the parameter distributions, sampled from both and compared
   by summary statistics and the two-sample Kolmogorov-Smirnov distance.
   ``torchvision.transforms.v2`` is checked for per-sample parameters on a batch.
2. **Per-image path**: lightly's ``MoCoV1Transform`` / ``MoCoV2Transform`` against
   ``MoCoV1Augment`` / ``MoCoV2Augment`` (two views each), images per second
   on real CIFAR-10 PIL images.
3. **Download**: ``torch.hub.download_url_to_file`` against
   ``moco_plugin.zoo.download.download_file`` from an HTTP server on 127.0.0.1.

Example::

    python benchmarks/scripts/library_ab.py --quick       # a minute or two
    python benchmarks/scripts/library_ab.py               # every size, batch 64 and 256, compiled too
"""
from __future__ import annotations

import argparse
import functools
import glob
import json
import os
import statistics
import time

import kornia
import kornia.augmentation as K
import lightly.transforms as LT
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms import v2 as T2

from moco_plugin.datasets.transforms import MultiView  # also registers MoCoV1Augment, MoCoV2Augment
from moco_plugin.models.data_preprocessors import BatchMoCoAugment

from library_ab_download import download_speed  # benchmarks/scripts/ is on sys.path when run as a script

MOCO = {  # BatchMoCoAugment options per version (defaults are v2 aug+)
    'v1': dict(hue=0.4, jitter_prob=1.0, grayscale_before_jitter=True, blur_prob=0.0),
    'v2': dict(blur_prob=0.5),
    # What the CPU configs (configs/mocov{1,2}/*-cpu.py) run: half-strength jitter, no grayscale
    # or blur on 32 px, batch 64 per view, compiled.
    'cpu': dict(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05, grayscale_prob=0.0,
                blur_prob=0.0),
}


def cifar_images(root: str, count: int) -> list:
    files = sorted(glob.glob(os.path.join(root, 'train', '*', '*.jpg')))[:count]
    if not files:
        raise SystemExit(f'no CIFAR-10 images under {root}/train: set MOCO_DATA_ROOT')
    return [Image.open(f).convert('RGB') for f in files]


def float_batch(images: list, size: int, num: int) -> torch.Tensor:
    """``(num, 3, size, size)`` float batch in [0, 255] from CIFAR images (upsampled for 224)."""
    batch = torch.stack([torch.from_numpy(np.array(im)).permute(2, 0, 1)
                         for im in images[:num]]).float()
    if size != batch.shape[-1]:
        batch = F.interpolate(batch, size=(size, size), mode='bilinear', antialias=False)
    return batch.clamp_(0, 255).contiguous()


def kornia_pipeline(version: str, size: int) -> K.AugmentationSequential:
    """kornia's ops with the MoCo v1 / v2 settings (inputs in [0, 1])."""
    crop = K.RandomResizedCrop((size, size), scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3))
    flip = K.RandomHorizontalFlip(p=0.5)
    if version == 'cpu':
        return K.AugmentationSequential(crop, K.ColorJitter(0.2, 0.2, 0.2, 0.05, p=0.8), flip)
    if version == 'v1':
        return K.AugmentationSequential(crop, K.RandomGrayscale(p=0.2),
                                        K.ColorJitter(0.4, 0.4, 0.4, 0.4, p=1.0), flip)
    radius = 6  # ceil(3 * max sigma), as BatchMoCoAugment
    return K.AugmentationSequential(crop, K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8),
                                    K.RandomGrayscale(p=0.2),
                                    K.RandomGaussianBlur((2 * radius + 1,) * 2, (0.1, 2.0), p=0.5),
                                    flip)


def run_kornia(pipeline, batch: torch.Tensor) -> torch.Tensor:
    # The data preprocessor hands over [0, 255]; kornia works on [0, 1].
    return pipeline(batch / 255.0).mul_(255.0)


def one_thread(fn):
    """``fn`` with torch's intra-op threads off during the call (kornia's best case when shared)."""
    def call():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(threads)
    return call


def interleaved_rates(candidates: dict, views: int, reps: int, warmup: int) -> dict:
    """views/s of each candidate, timed in turn ``reps`` times after ``warmup`` untimed rounds.

    Besides each candidate's median / min / max rate, ``vs_<first>`` is the
    median over repetitions of (its rate / the first candidate's rate in the
    same repetition) with the range of those paired ratios: on shared cores
    the speed drifts between repetitions, and a ratio inside one repetition
    cancels most of that drift.
    """
    times = {name: [] for name in candidates}
    for rep in range(warmup + reps):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            if rep >= warmup:
                times[name].append(time.perf_counter() - start)
    first = next(iter(candidates))
    result = {}
    for name, t in times.items():
        result[name] = dict(median=round(views / statistics.median(t), 1),
                            min=round(views / max(t), 1), max=round(views / min(t), 1))
        if name != first:
            paired = [ref / mine for ref, mine in zip(times[first], t)]
            result[name][f'vs_{first}'] = dict(median=round(statistics.median(paired), 3),
                                               min=round(min(paired), 3), max=round(max(paired), 3))
    return result


def batch_speed(images: list, sizes, batches, compiled: bool, reps: int) -> list:
    """views/s of BatchMoCoAugment and kornia: the CPU configs' case, then v2 / v1 per size and batch."""
    rows = []
    cases = [(version, size, num) for version in ('v2', 'v1') for size in sizes for num in batches]
    for version, size, num in [('cpu', 32, 64)] + cases:
        batch = float_batch(images, size, num)
        ours = BatchMoCoAugment(size=size, seed=0, **MOCO[version])
        kornia = kornia_pipeline(version, size)
        candidates = {'project_eager': functools.partial(ours, batch),
                      'kornia': functools.partial(run_kornia, kornia, batch)}
        candidates['kornia_1thread'] = one_thread(candidates['kornia'])
        if compiled and size == 32 and version != 'v1':  # the CPU configs compile it
            fused = BatchMoCoAugment(size=size, seed=0, compile=True, **MOCO[version])
            candidates['project_compiled'] = functools.partial(fused, batch)
        reps_here = reps if size <= 64 else max(3, reps // 4)
        rates = interleaved_rates(candidates, num, reps_here, warmup=2)
        rows.append(dict(version=version, size=size, batch=num, reps=reps_here, **rates))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def ks_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b|."""
    a, b = a.double().sort().values, b.double().sort().values
    grid = torch.cat([a, b])
    cdf_a = torch.searchsorted(a, grid, right=True) / len(a)
    cdf_b = torch.searchsorted(b, grid, right=True) / len(b)
    return float((cdf_a - cdf_b).abs().max())


def project_params(version: str, size: int, num: int) -> dict:
    aug = BatchMoCoAugment(size=size, seed=1, **MOCO[version])
    p = aug.sample_params(num, size, size)
    boxes = p.crop_boxes.double()
    return dict(area=boxes[:, 2] * boxes[:, 3] / size ** 2, aspect=boxes[:, 3] / boxes[:, 2],
                flip=p.flip.double(), jitter=p.jitter_applied.double(),
                brightness=p.jitter_factors[:, 0], contrast=p.jitter_factors[:, 1],
                saturation=p.jitter_factors[:, 2], hue=p.jitter_factors[:, 3],
                grayscale=p.grayscale.double(), blur=p.blur_applied.double(),
                sigma=p.blur_sigma, distinct_orders_per_batch=torch.tensor(
                    float(len({tuple(o) for o in p.jitter_order.tolist()[:256]}))))


def kornia_params(version: str, size: int, num: int) -> dict:
    torch.manual_seed(1)
    pipeline = kornia_pipeline(version, size)
    drawn = pipeline.forward_parameters(torch.Size([num, 3, size, size]))  # no images needed
    params = {p.name.rsplit('_', 1)[0]: p.data for p in drawn}
    src = params['RandomResizedCrop']['src'].double()
    width, height = src[:, 1, 0] - src[:, 0, 0] + 1, src[:, 2, 1] - src[:, 1, 1] + 1
    jitter = params['ColorJitter']
    applied = jitter['batch_prob'].double()
    out = dict(area=width * height / size ** 2, aspect=width / height,
               flip=params['RandomHorizontalFlip']['batch_prob'].double(), jitter=applied,
               grayscale=params['RandomGrayscale']['batch_prob'].double())
    for name in ('brightness', 'contrast', 'saturation', 'hue'):
        out[name] = jitter[f'{name}_factor']  # drawn for every sample, as in the project
    if 'RandomGaussianBlur' in params:
        blur = params['RandomGaussianBlur']
        out['blur'] = blur['batch_prob'].double()
        out['sigma'] = blur['sigma']
    # kornia draws one op order (shape (4,)) for the whole batch; torchvision one per image.
    out['distinct_orders_per_batch'] = torch.tensor(1.0 if jitter['order'].dim() == 1 else
                                                    float(len({tuple(o) for o in jitter['order'][:256].tolist()})))
    return out


def compare_params(num: int) -> list:
    rows = []
    for version, size in (('v2', 32), ('v2', 224), ('v1', 224)):
        ours, theirs = project_params(version, size, num), kornia_params(version, size, num)
        for name in ours:
            if name not in theirs:
                continue
            a, b = ours[name].double(), theirs[name].double()
            row = dict(version=version, size=size, param=name,
                       project=[round(float(v), 4) for v in (a.mean(), a.std() if a.numel() > 1 else 0,
                                                               a.min(), a.max())],
                       kornia=[round(float(v), 4) for v in (b.mean(), b.std() if b.numel() > 1 else 0,
                                                              b.min(), b.max())],
                       ks=round(ks_distance(a, b), 4) if a.numel() > 1 else None)
            rows.append(row)
            print(json.dumps(row), flush=True)
    # KS distance above which equal distributions are rejected at the 1 % level (continuous case).
    print(json.dumps(dict(ks_critical_1pct=round(1.628 * (2 / num) ** 0.5, 4))))
    return rows


def torchvision_v2_per_sample(images: list) -> dict:
    """Does ``transforms.v2`` draw parameters per sample when given a batch? (flip count)"""
    batch = float_batch(images, 32, 64)
    flipped = T2.RandomHorizontalFlip(p=0.5)
    counts = []
    for seed in range(20):
        torch.manual_seed(seed)
        out = flipped(batch)
        counts.append(int((out == batch.flip(-1)).flatten(1).all(1).sum()))
    return dict(flipped_per_batch_of_64=counts)


def per_image_speed(images: list, reps: int) -> list:
    rows = []
    big = [im.resize((256, 256), Image.BILINEAR) for im in images[:64]]
    for version, size, pool in (('v2', 32, images), ('v2', 224, big), ('v1', 32, images),
                                ('v1', 224, big)):
        if version == 'v2':
            blur = 0.5 if size >= 64 else 0.0  # MoCoV2Augment's default: no blur on 32 px
            ours = MultiView([dict(type='MoCoV2Augment', size=size, blur_prob=blur)], num_views=2)
            theirs = LT.MoCoV2Transform(input_size=size, gaussian_blur=blur, normalize=None)
        else:
            ours = MultiView([dict(type='MoCoV1Augment', size=size)], num_views=2)
            theirs = LT.MoCoV1Transform(input_size=size, normalize=None)
        candidates = {'project': lambda: [ours(im) for im in pool],
                      'lightly': lambda: [theirs(im) for im in pool]}
        rates = interleaved_rates(candidates, len(pool), reps, warmup=1)
        rows.append(dict(version=version, size=size, images=len(pool), reps=reps, **rates))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='32 px, batch 256, fewer repetitions')
    parser.add_argument('--data-root', default=os.environ.get('MOCO_DATA_ROOT',
                                                              '../shared/datasets/cifar10'))
    parser.add_argument('--threads', type=int, default=torch.get_num_threads(),
                        help='torch intra-op threads (training uses the default)')
    probes = ['batch', 'params', 'tv2', 'image', 'download']
    parser.add_argument('--only', nargs='+', default=probes, choices=probes,
                        help='which probes to run')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = cifar_images(args.data_root, 512)
    print(json.dumps(dict(torch=torch.__version__, kornia=kornia.__version__,
                          threads=torch.get_num_threads(), cpus=os.cpu_count(), quick=args.quick)))
    result = {}
    if 'batch' in args.only:
        result['batch'] = batch_speed(images, [32] if args.quick else [32, 224],
                                      [256] if args.quick else [64, 256],
                                      compiled=not args.quick, reps=8 if args.quick else 20)
    if 'params' in args.only:
        result['params'] = compare_params(20000 if args.quick else 100000)
    if 'tv2' in args.only:
        result['torchvision_v2'] = torchvision_v2_per_sample(images)
        print(json.dumps(result['torchvision_v2']))
    if 'image' in args.only:
        result['per_image'] = per_image_speed(images, 3 if args.quick else 7)
    if 'download' in args.only:
        result['download'] = download_speed(50 if args.quick else 200, 2 if args.quick else 5,
                                            interleaved_rates)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
