"""Which precision feature extraction runs in: bf16 autocast where the CPU computes it
natively, fp32 elsewhere.

bf16 autocast on a CPU with AVX-512 BF16 or AMX extracted features about 2x faster than
fp32 on the development machine (benchmarks/transfer_and_few_shot.md); on CPUs without
those instructions oneDNN emulates bf16 and it is slower than fp32, so ``auto`` checks.
"""
from __future__ import annotations

import functools
from typing import Optional

import torch

PRECISION_CHOICES = ('auto', 'fp32', 'amp')
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
    except OSError:  # not Linux: no cheap way to know, fp32 is the safe choice
        pass
    return False


def resolve_precision(choice: str, device: Optional[str] = None) -> str:
    """``'bf16'``, ``'fp16'`` or ``'fp32'`` for a ``--precision`` choice on ``device``.

    ``amp`` is bf16 autocast on CPU and fp16 on CUDA; ``auto`` is bf16 on a CPU that
    computes bf16 natively and fp32 otherwise (CUDA included: fp16 features are a
    choice the user makes with ``amp``).

    Example:
        >>> resolve_precision('fp32', 'cpu'), resolve_precision('amp', 'cuda')
        ('fp32', 'fp16')
    """
    if choice not in PRECISION_CHOICES:
        raise ValueError(f'precision must be one of {", ".join(PRECISION_CHOICES)}, got {choice!r}')
    on_cuda = (device or ('cuda' if torch.cuda.is_available() else 'cpu')).startswith('cuda')
    if choice == 'fp32' or (choice == 'auto' and (on_cuda or not cpu_has_native_bf16())):
        return 'fp32'
    return 'fp16' if on_cuda else 'bf16'
