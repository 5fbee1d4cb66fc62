"""Load the backbone of any checkpoint of the registry into a built model, strictly.

Evaluation only needs ``backbone.*``; everything else in a checkpoint (necks, heads, key
encoders, queues) is reported, not loaded. Paths, ``zoo://NAME`` and official releases
(converted on read by the zoo) all work. :func:`load_evaluation_backbone` is the one loader
of a backbone for evaluation (the few-label tools, their studies): the config's model with
the checkpoint's backbone or a random init, and the identities of both.
"""
from __future__ import annotations

import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import torch
from torch import nn

from moco_plugin.engine.checkpoint_io import read_checkpoint
from moco_plugin.evaluation.eval_datasets import (default_image_size, pretraining_dataset_cfg,
                                                  training_image_size)
from moco_plugin.evaluation.feature_extraction import feature_identity
from moco_plugin.registry import MODELS
from moco_plugin.utils.hashing import sha256_of_file, sha256_of_state_dict
from moco_plugin.utils.quiet import quiet_mmengine
from moco_plugin.utils.safe_load import register_safe_globals

RANDOM_CHECKPOINTS = ('none', 'random')


@dataclass
class BackboneLoadReport:
    """What :func:`load_backbone_weights` loaded and what the checkpoint says of its training.

    Attributes:
        tensors: Backbone tensors loaded.
        unused: Other top-level modules of the checkpoint and their tensor counts.
        outside_mismatch: Non-backbone keys of the model missing in the checkpoint, and
            checkpoint keys the model does not have (a hint of another pretraining config).
        pretrain: Epochs, iterations, experiment name, summed iteration time
            (``wall_time_s``) and the k-NN monitor history when the checkpoint has them.
    """

    tensors: int
    unused: Dict[str, int]
    outside_mismatch: List[List[str]] = field(default_factory=list)
    pretrain: Dict[str, Any] = field(default_factory=dict)


def _state_dict_of(loaded: Any, checkpoint: str) -> Dict[str, Any]:
    state = loaded.get('state_dict', loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state dict ({type(loaded).__name__})')
    if state and all(k.startswith('module.') for k in state):  # saved from a DDP-wrapped model
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state


def pretraining_info(loaded: Any) -> Dict[str, Any]:
    """Epochs, iterations, summed iteration time and k-NN history recorded in a checkpoint."""
    meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
    info: Dict[str, Any] = dict(epochs=meta.get('epoch'), iters=meta.get('iter'),
                                experiment=meta.get('experiment_name'),
                                image_size=meta.get('training_image_size'))
    hub = loaded.get('message_hub') if isinstance(loaded, dict) else None
    try:  # MMEngine's per-iteration times: their sum is the pretraining compute time
        times = hub['log_scalars']['train/time'].data[0]
        info['wall_time_s'] = float(sum(float(t) for t in times))
    except (KeyError, TypeError, AttributeError, IndexError):
        info['wall_time_s'] = None
    if meta.get('knn_history'):
        info['knn_monitor'] = [dict(h) for h in meta['knn_history']]
    return info


def recorded_training_image_size(checkpoint: str) -> Optional[int]:
    """The training resolution a local checkpoint records (``meta['training_image_size']``,
    written by ``SafeCheckpointHook``); ``None`` for older files, URLs and official releases.

    The file is memory-mapped, so only the small ``meta`` dict is read.
    """
    if '://' in checkpoint or not osp.isfile(checkpoint):
        return None
    register_safe_globals()
    try:
        loaded = torch.load(checkpoint, map_location='cpu', mmap=True, weights_only=True)
    except Exception:  # not a zip checkpoint (old format): full load later reports problems
        return None
    size = (loaded.get('meta') or {}).get('training_image_size') if isinstance(loaded, dict) else None
    return int(size) if size else None


def load_backbone_weights(model: nn.Module, checkpoint: str) -> BackboneLoadReport:
    """Load ``backbone.*`` of ``checkpoint`` strictly into ``model.backbone``.

    Raises:
        FileNotFoundError: A local checkpoint path does not exist.
        ValueError: No ``backbone.*`` weights, or they do not fit the model's backbone.
    """
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f"checkpoint not found: {checkpoint}; pass a .pth file, zoo://NAME, "
                                "or 'random' for the random-init baseline")
    loaded = read_checkpoint(checkpoint)
    state = _state_dict_of(loaded, checkpoint)
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not backbone:
        first = ', '.join(list(state)[:5])
        raise ValueError(f'{checkpoint} has no backbone.* weights (first keys: {first}); a '
                         'moco_plugin / MMEngine checkpoint is expected (convert official '
                         'releases with moco-convert)')
    try:
        result = model.backbone.load_state_dict(backbone, strict=False)
    except RuntimeError as err:  # shape mismatches raise even with strict=False
        lines = [ln.strip() for ln in str(err).splitlines() if 'size mismatch' in ln]
        detail = '; '.join(lines[:3]) or ' '.join(str(err).split())[:300]
        raise ValueError(f'backbone weights of {checkpoint} do not fit the config\'s backbone '
                         f'({detail}); check the config (depth, cifar_stem)') from None
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f"backbone weights of {checkpoint} do not fit the config's backbone: "
                         f'missing {result.missing_keys[:10]}, unexpected '
                         f'{result.unexpected_keys[:10]}; check the config (depth, cifar_stem)')
    unused = Counter(k.split('.')[0] for k in state if not k.startswith('backbone.'))
    model_keys = {k for k in model.state_dict() if not k.startswith('backbone.')}
    ckpt_keys = {k for k in state if not k.startswith('backbone.')}
    mismatch = ([sorted(model_keys - ckpt_keys), sorted(ckpt_keys - model_keys)]
                if model_keys != ckpt_keys else [])
    return BackboneLoadReport(tensors=len(backbone), unused=dict(sorted(unused.items())),
                              outside_mismatch=mismatch, pretrain=pretraining_info(loaded))


def is_random_checkpoint(checkpoint: str) -> bool:
    """``'random'`` / ``'none'``: a randomly initialised backbone, the baseline."""
    return checkpoint.lower() in RANDOM_CHECKPOINTS


def evaluation_image_size(cfg, checkpoint: Optional[str], override: Optional[int] = None,
                          log: Optional[Callable[[str], None]] = None) -> int:
    """The crop side features are extracted at: ``override``, else the resolution the
    checkpoint records it was trained at, else the config's training size, else the
    dataset type's default (32 for CIFAR-10, 224 otherwise). Used by the benchmark and
    every few-label tool, so both see the images at the size the backbone learnt."""
    random_init = checkpoint is None or is_random_checkpoint(checkpoint)
    recorded = None if random_init else recorded_training_image_size(checkpoint)
    configured = training_image_size(cfg)
    size = override or recorded or configured or default_image_size(pretraining_dataset_cfg(cfg))
    if log is not None and recorded and not override and recorded != configured:
        log(f'the checkpoint was trained at {recorded} px (the config says {configured}); '
            f'evaluating at {recorded} px (--image-size overrides)')
    return size


@dataclass
class EvaluationBackbone:
    """The config's model with the checkpoint's backbone, and the identities of both.

    ``report`` is ``None`` for a random init."""

    model: Any
    checkpoint_sha256: Optional[str]
    weights_sha256: str
    identity: Dict[str, Any]
    report: Optional[BackboneLoadReport] = None


def load_evaluation_backbone(model_cfg, checkpoint: str, seed: int = 0) -> EvaluationBackbone:
    """Build ``model_cfg`` (seeded) and load the backbone of ``checkpoint`` strictly, or
    initialise it randomly for ``'random'``; the model is in eval mode, on the CPU."""
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    report = None
    if is_random_checkpoint(checkpoint):
        with quiet_mmengine():
            model.init_weights()
        checkpoint_sha = None
    else:
        report = load_backbone_weights(model, checkpoint)
        checkpoint_sha = sha256_of_file(checkpoint) if osp.isfile(checkpoint) else None
    model.eval()
    # The same identity as tools/benchmark_linear.py, so both share the feature cache.
    identity = feature_identity(model_cfg, amp=False)
    return EvaluationBackbone(model, checkpoint_sha, sha256_of_state_dict(model.backbone),
                              identity, report)
