"""MoCo v1/v2 augmentation of a whole batch on the training device."""
from __future__ import annotations

import functools
import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Optional, Tuple

import torch
from mmengine import dist
from torch import nn

from moco_plugin.models.data_preprocessors import batch_image_ops as ops
from moco_plugin.models.data_preprocessors.batch_augment_sampling import (MoCoAugmentParams,
                                                                          mix_seed,
                                                                          sample_moco_params)
from moco_plugin.registry import MODELS

@functools.lru_cache(maxsize=None)
def _thread_pool(size: int) -> ThreadPoolExecutor:
    """A process-wide pool per size (module attributes would break ``copy.deepcopy`` of models)."""
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix='batch_augment')


@MODELS.register_module()
class BatchMoCoAugment(nn.Module):
    """MoCo v2 "aug+" (and v1 through options) for a batch, on the device that trains.

    The per-image pipeline (``MoCoV2Augment``) runs PIL operations image by
    image in data-loader workers, which on a small machine costs more CPU time
    than the model itself. Here every random parameter is drawn per sample
    with torchvision's distributions, and each stage is a few tensor kernels
    for the whole batch:

    * ``RandomResizedCrop(size, scale, ratio)`` + ``RandomHorizontalFlip`` as
      one separable resampling (two batched matrix products with PIL's
      bilinear weights, the flip folded into the column weights);
    * ``RandomApply([ColorJitter(b, c, s, h)], p=jitter_prob)`` with a random
      op order per sample, as torchvision does;
    * ``RandomGrayscale(grayscale_prob)``;
    * lightly's/PIL's Gaussian blur with ``sigma ~ U(blur_sigma)`` and
      probability ``blur_prob`` (another separable product).

    The flip is applied first instead of last; it commutes with every later
    op (all are per-pixel or mirror-symmetric), so the result is the same.
    Defaults are MoCo v2's aug+ (`arXiv:2003.04297 <https://arxiv.org/abs/2003.04297>`_);
    MoCo v1 (`arXiv:1911.05722 <https://arxiv.org/abs/1911.05722>`_) is
    ``hue=0.4, jitter_prob=1.0, grayscale_before_jitter=True, blur_prob=0``.

    Randomness: each call seeds a private ``torch.Generator`` from
    ``(seed, number of previous calls, rank)``, so the same seed gives the
    same views, ranks differ, and the two integers are the whole state. They
    are saved in the model's state dict (``get_extra_state``), so a checkpoint
    resumes the augmentation stream exactly; the global RNG states that
    ``RNGStateHook`` saves are not needed for it. With ``seed=None`` the seed
    is drawn from the global torch RNG at the first call (after the Runner has
    seeded it, so ``randomness.seed`` makes runs reproducible).

    Args:
        size: Output side length; ``None`` keeps the input size.
        scale: Crop area range as a fraction of the image.
        ratio: Crop aspect-ratio range (width / height), sampled log-uniformly.
        flip_prob: Probability of the horizontal flip.
        jitter_prob: Probability of the colour jitter.
        brightness: Brightness factor drawn from ``[max(0, 1 - b), 1 + b]``.
        contrast: Contrast factor drawn from ``[max(0, 1 - c), 1 + c]``.
        saturation: Saturation factor drawn from ``[max(0, 1 - s), 1 + s]``.
        hue: Hue shift drawn from ``[-hue, hue]`` (turns, at most 0.5).
        grayscale_prob: Probability of the grayscale conversion.
        grayscale_before_jitter: MoCo v1 order (grayscale, then jitter).
        blur_prob: Probability of the Gaussian blur; ``None`` means 0.5 for
            outputs of 64 px and more and 0 below, like ``MoCoV2Augment``.
        blur_sigma: Range of the blur's standard deviation in pixels.
        seed: Seed of the augmentation stream; ``None`` draws it from torch's
            global RNG at the first call.
        value_range: Pixel value of white (255 for the uint8 scale the data
            preprocessor hands over).
        compile: Run the augmentation through ``torch.compile`` (fixed
            shapes), which fuses its per-pixel work into a few loops; the
            first call compiles (tens of seconds on a CPU), and a failure to
            compile falls back to eager mode with a warning.
        cpu_threads: On a CPU, split the batch into this many chunks and
            augment each on its own thread with torch's intra-op parallelism
            off (restored afterwards); ``None`` uses ``torch.get_num_threads()``.
            The ops are small and memory-bound: splitting each one across
            threads gains little and, when the cores are shared (a loader
            worker, other jobs), every op can wait a scheduler slice for a
            preempted thread (measured 2-40x slower than one thread on a busy
            2-core machine); independent chunks need no such synchronisation.
            Results do not depend on it.
    """

    def __init__(self, size: Optional[int] = None, scale: Tuple[float, float] = (0.2, 1.0),
                 ratio: Tuple[float, float] = (3 / 4, 4 / 3), flip_prob: float = 0.5,
                 jitter_prob: float = 0.8, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.4, hue: float = 0.1, grayscale_prob: float = 0.2,
                 grayscale_before_jitter: bool = False, blur_prob: Optional[float] = None,
                 blur_sigma: Tuple[float, float] = (0.1, 2.0), seed: Optional[int] = None,
                 value_range: float = 255.0, compile: bool = False,
                 cpu_threads: Optional[int] = None) -> None:
        super().__init__()
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'scale must satisfy 0 < min <= max <= 1, got {scale}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'ratio must satisfy 0 < min <= max, got {ratio}')
        for name, prob in (('flip_prob', flip_prob), ('jitter_prob', jitter_prob),
                           ('grayscale_prob', grayscale_prob), ('blur_prob', blur_prob)):
            if prob is not None and not 0.0 <= prob <= 1.0:
                raise ValueError(f'{name} must be in [0, 1], got {prob}')
        if min(brightness, contrast, saturation) < 0 or not 0 <= hue <= 0.5:
            raise ValueError('brightness, contrast and saturation must be >= 0 and hue in [0, 0.5], '
                             f'got {brightness}, {contrast}, {saturation}, {hue}')
        if seed is not None and not 0 <= seed < 2**63:
            raise ValueError(f'seed must be in [0, 2**63), got {seed}')
        if not 0 <= blur_sigma[0] <= blur_sigma[1]:
            raise ValueError(f'blur_sigma must satisfy 0 <= min <= max, got {blur_sigma}')
        self.size = size
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)
        self.flip_prob = flip_prob
        self.jitter_prob = jitter_prob
        self.jitter_ranges = ((max(0.0, 1 - brightness), 1 + brightness),
                              (max(0.0, 1 - contrast), 1 + contrast),
                              (max(0.0, 1 - saturation), 1 + saturation), (-hue, hue))
        self.grayscale_prob = grayscale_prob
        self.grayscale_before_jitter = grayscale_before_jitter
        self.blur_prob = blur_prob
        self.blur_sigma = tuple(blur_sigma)
        self.value_range = value_range
        self.seed = seed
        self.calls = 0
        self.compile = compile
        self.cpu_threads = cpu_threads
        self._compiled = None
        self._generators: Dict[torch.device, torch.Generator] = {}

    def __getstate__(self) -> dict:
        # Generators and the compiled function are caches, rebuilt on demand; dropping them keeps
        # copy.deepcopy / pickling of whole models (EMA copies, checkpointed modules) working.
        return dict(self.__dict__, _generators={}, _compiled=None)

    # --- randomness ----------------------------------------------------------
    def get_extra_state(self) -> torch.Tensor:
        """The stream's position ``[seed, calls]`` (seed -1: not drawn yet), saved with the model.

        A tensor rather than a dict so that code handling checkpoints as
        tensors (conversion, export, ``weights_only`` loading) needs no change.
        """
        return torch.tensor([-1 if self.seed is None else self.seed, self.calls], dtype=torch.int64)

    def set_extra_state(self, state: torch.Tensor) -> None:
        seed, calls = (int(v) for v in state.tolist())
        self.seed = None if seed < 0 else seed
        self.calls = calls

    def next_generator(self, device: torch.device) -> torch.Generator:
        """The generator for the next call: seeded from ``(seed, calls, rank)``, then ``calls += 1``."""
        if self.seed is None:
            self.seed = int(torch.randint(0, 2**62, (1,)).item())  # the global torch RNG
        generator = self._generators.get(device)
        if generator is None:
            generator = self._generators[device] = torch.Generator(device=device)
        generator.manual_seed(mix_seed(self.seed, self.calls, dist.get_rank()))
        self.calls += 1
        return generator

    def output_size(self, height: int, width: int) -> Tuple[int, int]:
        return (self.size, self.size) if self.size else (height, width)

    def effective_blur_prob(self, out_height: int, out_width: int) -> float:
        if self.blur_prob is not None:
            return self.blur_prob
        return 0.5 if min(out_height, out_width) >= 64 else 0.0

    def sample_params(self, num: int, height: int, width: int,
                      device: torch.device = torch.device('cpu'),
                      generator: Optional[torch.Generator] = None) -> MoCoAugmentParams:
        """Draw the parameters of one call for ``num`` images of ``height x width``.

        Tests use this to check the distributions; :meth:`forward` draws with
        it and applies them with :meth:`augment`.
        """
        device = torch.device(device)
        gen = generator if generator is not None else self.next_generator(device)
        out_h, out_w = self.output_size(height, width)
        return sample_moco_params(
            num, height, width, scale=self.scale, ratio=self.ratio, flip_prob=self.flip_prob,
            jitter_prob=self.jitter_prob, jitter_ranges=self.jitter_ranges,
            grayscale_prob=self.grayscale_prob, blur_prob=self.effective_blur_prob(out_h, out_w),
            blur_sigma=self.blur_sigma, generator=gen, device=device)

    # --- the augmentation ----------------------------------------------------
    def augment(self, images: torch.Tensor, params: MoCoAugmentParams) -> torch.Tensor:
        """Augment ``images`` (``(N, 3, H, W)`` in ``[0, value_range]``, any dtype) with ``params``.

        Returns a float32 batch of the output size.
        """
        tensors = (params.crop_boxes, params.flip, params.jitter_applied, params.jitter_factors,
                   params.jitter_order, params.grayscale, params.blur_applied, params.blur_sigma)
        if self.compile:
            try:
                if self._compiled is None:
                    # Fixed shapes, no data-dependent sizes: the hue runs on the whole batch, masked.
                    self._compiled = torch.compile(
                        functools.partial(self._augment_tensors, hue_on_subset=False), dynamic=False)
                return self._compiled(images, *tensors)
            except Exception as error:  # e.g. no C++ compiler for inductor on this machine
                warnings.warn(f'BatchMoCoAugment: torch.compile failed ({type(error).__name__}: '
                              f'{str(error).splitlines()[0] if str(error) else ""}); running eagerly')
                self.compile = False
        return self._augment_tensors(images, *tensors)

    def _augment_tensors(self, images: torch.Tensor, crop_boxes: torch.Tensor, flip: torch.Tensor,
                         jitter_applied: torch.Tensor, jitter_factors: torch.Tensor,
                         jitter_order: torch.Tensor, grayscale: torch.Tensor,
                         blur_applied: torch.Tensor, blur_sigma: torch.Tensor,
                         hue_on_subset: Optional[bool] = None) -> torch.Tensor:
        _, _, height, width = images.shape
        out_h, out_w = self.output_size(height, width)
        rows = ops.resize_weights(crop_boxes[:, 0], crop_boxes[:, 2], height, out_h)
        cols = ops.resize_weights(crop_boxes[:, 1], crop_boxes[:, 3], width, out_w, flip=flip)
        # From here on the batch is a fresh tensor of our own: update it in place.
        images = ops.resample(images.float(), rows, cols)
        if self.grayscale_before_jitter and self.grayscale_prob > 0:
            images = ops.random_grayscale(images, grayscale, inplace=True)
        if self.jitter_prob > 0:
            images = ops.color_jitter(images, jitter_factors, jitter_order, jitter_applied,
                                      bound=self.value_range, hue_on_subset=hue_on_subset,
                                      inplace=True)
        if not self.grayscale_before_jitter and self.grayscale_prob > 0:
            images = ops.random_grayscale(images, grayscale, inplace=True)
        if self.effective_blur_prob(out_h, out_w) > 0:
            sigma = torch.where(blur_applied, blur_sigma, torch.zeros_like(blur_sigma))
            radius = max(1, math.ceil(3 * self.blur_sigma[1]))
            images = ops.resample(images, ops.gaussian_blur_weights(sigma, out_h, radius),
                                  ops.gaussian_blur_weights(sigma, out_w, radius))
        return images

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Augment a float batch ``(N, 3, H, W)`` with fresh random parameters."""
        num, _, height, width = images.shape
        params = self.sample_params(num, height, width, images.device)
        if images.device.type != 'cpu' or self.compile:
            return self.augment(images, params)
        threads = torch.get_num_threads()
        chunks = min(self.cpu_threads or threads, max(1, num // 16))
        torch.set_num_threads(1)  # process-wide, so restored right after
        try:
            if chunks == 1:
                return self.augment(images, params)
            bounds = [round(i * num / chunks) for i in range(chunks + 1)]
            parts = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
            futures = [_thread_pool(chunks).submit(self.augment, images[part], params.select(part))
                       for part in parts]
            return torch.cat([future.result() for future in futures])
        finally:
            torch.set_num_threads(threads)

    def extra_repr(self) -> str:
        return (f'size={self.size}, scale={self.scale}, ratio={self.ratio}, flip_prob={self.flip_prob}, '
                f'jitter_prob={self.jitter_prob}, jitter_ranges={self.jitter_ranges}, '
                f'grayscale_prob={self.grayscale_prob}, blur_prob={self.blur_prob}, seed={self.seed}')
