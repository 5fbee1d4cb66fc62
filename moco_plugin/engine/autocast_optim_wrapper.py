"""Mixed precision without loss scaling, for CPUs (bf16) and bf16 GPUs."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper

from moco_plugin.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that runs forward passes under ``torch.autocast``.

    MMEngine's ``AmpOptimWrapper`` requires CUDA and fp16 loss scaling; bf16
    has float32's exponent range, so it needs no scaler, and it is what CPUs
    with AVX-512 BF16/AMX accelerate. ``tools/train.py --amp`` picks this
    wrapper on CPU and ``AmpOptimWrapper`` on GPU.

    Args:
        dtype: ``'bfloat16'`` (default) or ``'float16'``.
        enabled: ``False`` runs in float32 (switch a bf16 config off from the command line:
            ``--cfg-options optim_wrapper.enabled=False``).
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', enabled: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        self.enabled = enabled

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype,
                                                          enabled=self.enabled):
            yield
