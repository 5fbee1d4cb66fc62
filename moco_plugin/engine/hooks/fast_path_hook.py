"""Switchable speed-ups of the training step: channels_last and torch.compile of the encoders."""
from __future__ import annotations

from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from moco_plugin.registry import HOOKS


def encoder_modules(model: nn.Module) -> List[nn.Module]:
    """The modules an image goes through in a training step: backbone and neck of every encoder.

    The query (online) encoder and, for models with ``momentum_pairs()``, the key
    (target) encoder, each module once.
    """
    found: List[nn.Module] = []
    for name in ('backbone', 'neck'):
        module = getattr(model, name, None)
        if isinstance(module, nn.Module):
            found.append(module)
    pairs = model.momentum_pairs() if hasattr(model, 'momentum_pairs') else []
    for online, target in pairs:
        found += [online, target]
    unique: List[nn.Module] = []
    for module in found:
        if not any(module is seen for seen in unique):
            unique.append(module)
    return unique


def compile_for_training(module: nn.Module, **compile_kwargs) -> nn.Module:
    """``torch.compile`` ``module.forward`` for training mode only; evaluation stays eager.

    The compiled graph is specialised to the training batch (``dynamic=False``
    by default); evaluation passes (the k-NN monitor, feature extraction) have
    other batch sizes and BN in eval mode, and compiling each of those would
    cost more than it saves. Parameters, buffers and state-dict keys are
    unchanged (the module object is kept; only its ``forward`` is wrapped), so
    checkpoints, the EMA update and the optimizer see the same tensors.
    """
    if getattr(module, '_moco_compiled', False):
        return module
    eager = module.forward
    compiled = torch.compile(eager, **{'dynamic': False, **compile_kwargs})

    def forward(*args, **kwargs):
        return compiled(*args, **kwargs) if module.training else eager(*args, **kwargs)

    module.forward = forward
    module._moco_compiled = True
    return module


@HOOKS.register_module()
class FastPathHook(Hook):
    """Opt-in speed-ups of the training step, each switched on its own and measured by
    ``benchmarks/scripts/gpu_check.py``.

    * ``channels_last``: the model's weights and the data preprocessor's output
      in ``torch.channels_last`` (NHWC), the layout of cuDNN's fastest
      convolutions with bf16/fp16 tensor cores; applied before any checkpoint is
      loaded (loading copies into the existing tensors, keeping the layout).
    * ``compile``: ``torch.compile`` of the backbone and neck of every encoder
      (query and key) for training mode (:func:`compile_for_training`); the first
      step compiles (tens of seconds), later ones run the fused graphs.

    The other fast paths are config keys, not this hook's: bf16 autocast
    (``optim_wrapper.type='AutocastOptimWrapper'``), the fused optimizer
    (``optim_wrapper.optimizer.fused=True``), data on the device
    (``DeviceArrayDataset`` + ``DeviceDataPreprocessor`` + ``DeviceDataHook``),
    reading the loss back every N steps (``LazyRuntimeInfoHook``) and the k-NN
    monitor on the device (``KNNMonitorHook(backend='auto')``).

    Args:
        channels_last: Convert the model to channels_last.
        compile: Compile the encoders for training.
        compile_mode: ``mode`` of ``torch.compile`` (``None``, ``'max-autotune-no-cudagraphs'``, ...).
        compile_backend: ``backend`` of ``torch.compile`` (``'inductor'``; ``'eager'``
            only traces, for tests).
    """

    priority = 'VERY_HIGH'

    def __init__(self, channels_last: bool = False, compile: bool = False,
                 compile_mode: Optional[str] = None, compile_backend: str = 'inductor') -> None:
        self.channels_last = channels_last
        self.compile = compile
        self.compile_mode = compile_mode
        self.compile_backend = compile_backend

    @staticmethod
    def _model(runner) -> nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_run(self, runner) -> None:
        if not self.channels_last:
            return
        model = self._model(runner)
        model.to(memory_format=torch.channels_last)
        if hasattr(model.data_preprocessor, 'channels_last'):
            model.data_preprocessor.channels_last = True

    def before_train(self, runner) -> None:
        if not self.compile:
            return
        model = self._model(runner)
        modules = encoder_modules(model)
        kwargs = dict(backend=self.compile_backend)
        if self.compile_mode:
            kwargs['mode'] = self.compile_mode
        for module in modules:
            compile_for_training(module, **kwargs)
        if hasattr(runner, 'logger'):
            runner.logger.info(f'FastPathHook: {len(modules)} encoder modules compiled for training '
                               f'(backend {self.compile_backend}, mode {self.compile_mode}); the first '
                               'step compiles')
