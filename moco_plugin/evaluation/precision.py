"""Which precision feature extraction runs in: fp32 by default, bf16/fp16 autocast on request.

Measured on the development CPU (AVX-512 BF16), benchmarks/transfer_and_few_shot.md: at the
32 px of the CIFAR-10 configs bf16 autocast extracts *slower* than fp32 (0.7-1.0x; the maps
are tiny and the casts dominate), so fp32 stays the default; ``amp`` is for large crops.
Without AVX-512 BF16 or AMX, oneDNN emulates bf16 and it is slower still, so asking for it
there gets a warning.
"""
from __future__ import annotations

import functools
from typing import Optional

import torch

PRECISION_CHOICES = ('fp32', 'amp')
NATIVE_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16(cpuinfo: str = '/proc/cpuinfo') -> bool:
    """Whether the CPU flags list an instruction set with bf16 arithmetic.

    Example:
        >>> isinstance(cpu_has_native_bf16(), bool)
        True
    """
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith('flags'):
                    return any(flag in line.split() for flag in NATIVE_BF16_FLAGS)
    except OSError:  # not Linux: no cheap way to know
        pass
    return False


def resolve_precision(choice: str, device: Optional[str] = None) -> str:
    """``'fp32'``, ``'bf16'`` or ``'fp16'`` for a ``--precision`` choice on ``device``:
    ``amp`` is bf16 autocast on CPU and fp16 on CUDA.

    Example:
        >>> resolve_precision('fp32', 'cpu'), resolve_precision('amp', 'cpu'), resolve_precision('amp', 'cuda')
        ('fp32', 'bf16', 'fp16')
    """
    if choice not in PRECISION_CHOICES:
        raise ValueError(f'precision must be one of {", ".join(PRECISION_CHOICES)}, got {choice!r}')
    if choice == 'fp32':
        return 'fp32'
    on_cuda = (device or ('cuda' if torch.cuda.is_available() else 'cpu')).startswith('cuda')
    return 'fp16' if on_cuda else 'bf16'


def emulated_bf16_warning(precision: str) -> Optional[str]:
    """A warning when bf16 was asked for on a CPU that can only emulate it, else ``None``."""
    if precision == 'bf16' and not cpu_has_native_bf16():
        return ('bf16 autocast on a CPU without AVX-512 BF16 / AMX is emulated and slower than '
                'fp32; drop --amp / --precision amp')
    return None


def large_crop_hint(image_size: int, precision: str, min_side: int = 128) -> Optional[str]:
    """A hint to use bf16 where it measured faster: crops of ``min_side`` px or more on a CPU
    with native bf16 (1.75-2.1x at 224 px on the development CPU; 0.7-1.0x at 32 px).

    Example:
        >>> large_crop_hint(32, 'fp32') is None
        True
    """
    if precision == 'fp32' and image_size >= min_side and cpu_has_native_bf16():
        return (f'{image_size} px crops on a CPU with native bf16: --precision amp extracted '
                'about 2x faster than fp32 at 224 px on the development CPU')
    return None
