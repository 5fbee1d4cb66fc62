"""Pooled features of a frozen backbone, batched, with a progress bar and a disk cache."""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from moco_plugin.utils.atomic_io import atomic_save_npy, remove_partial_writes
from moco_plugin.utils.cache import cache_dir
from moco_plugin.utils.hashing import sha256_of_file, sha256_of_state_dict  # noqa: F401 (re-exported)


@dataclass
class FeatureSet:
    """Features ``(N, C)`` float32 and integer labels ``(N,)`` of one dataset split."""

    features: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def dataset_identity(dataset: Dataset) -> Dict[str, Any]:
    """What identifies a dataset's content for caching: class, source, split, subset, transform.

    The transform enters through its ``repr`` (torchvision transforms print
    their parameters), the subset through the selected source indices, the
    images themselves through the dataset's ``content_fingerprint()`` (size
    and modification time of every file), so a replaced image is never served
    from a stale feature cache.
    """
    indices = getattr(dataset, 'indices', None)
    fingerprint = getattr(dataset, 'content_fingerprint', None)
    steps = getattr(getattr(dataset, 'pipeline', None), 'steps', None)
    return dict(
        type=type(dataset).__name__,
        source=osp.abspath(str(getattr(dataset, 'source', getattr(dataset, 'folder', getattr(
            dataset, 'data_root', ''))))),
        split=getattr(dataset, 'split', None),
        size=len(dataset),  # type: ignore[arg-type]
        subset_sha1=(hashlib.sha1(np.asarray(indices).tobytes()).hexdigest()
                     if indices is not None else None),
        transform=_stable_repr(steps if steps is not None else getattr(dataset, 'pipeline', None)),
        content=fingerprint() if callable(fingerprint) else None,
    )


def _stable_repr(obj: Any) -> str:
    # Objects without a __repr__ print their memory address, which changes every run.
    return re.sub(r' at 0x[0-9a-fA-F]+', '', repr(obj))


def autocast_dtype(amp: Union[bool, str, None], device_type: str) -> Optional[torch.dtype]:
    """The autocast dtype of ``amp``: ``False``/``None``/``'fp32'`` none, ``'bf16'``,
    ``'fp16'``, or ``True`` (bf16 on a CPU, fp16 on CUDA).

    Example:
        >>> autocast_dtype('bf16', 'cuda'), autocast_dtype(True, 'cpu'), autocast_dtype('fp32', 'cpu')
        (torch.bfloat16, torch.bfloat16, None)
    """
    if not amp or amp == 'fp32':
        return None
    if amp in ('bf16', 'fp16'):
        return torch.bfloat16 if amp == 'bf16' else torch.float16
    if amp is True:
        return torch.bfloat16 if device_type == 'cpu' else torch.float16
    raise ValueError(f"amp must be a bool or one of 'fp32', 'bf16', 'fp16', got {amp!r}")


def feature_identity(model_cfg: Mapping[str, Any], amp: Union[bool, str, None]) -> Dict[str, Any]:
    """What besides the weights and the data makes a model's features: the backbone config,
    the normalisation and the precision (``amp`` as :func:`autocast_dtype` takes it; bf16 keys
    as ``True`` and fp32 as ``False``, as before fp16 had its own). The pretraining
    augmentation (``batch_augment``) does not change them, so it stays out of the cache key.
    """
    preprocessor = {k: v for k, v in dict(model_cfg.get('data_preprocessor') or {}).items()
                    if k != 'batch_augment'}
    precision = 'fp16' if amp == 'fp16' else bool(amp) and amp != 'fp32'
    return dict(backbone=model_cfg.get('backbone'), data_preprocessor=preprocessor, amp=precision)


def feature_cache_key(weights_id: str, dataset: Dataset, extra: Optional[dict] = None) -> str:
    """Cache key: hash of (weights identity, dataset identity, extra such as the model config)."""
    payload = json.dumps(dict(weights=weights_id, dataset=dataset_identity(dataset),
                              extra=extra or {}), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def feature_cache_dir() -> str:
    """``<cache_dir()>/features`` (``MOCO_CACHE_DIR`` moves it)."""
    return osp.join(cache_dir(), 'features')


def _to_labels(data_samples: Any, batch_size: int) -> torch.Tensor:
    if isinstance(data_samples, dict) and 'gt_label' in data_samples:
        return torch.as_tensor(data_samples['gt_label']).view(-1).long()
    return torch.full((batch_size,), -1, dtype=torch.long)  # unlabelled data


@torch.no_grad()
def extract_features(model: nn.Module, dataloader: DataLoader, desc: str = 'features',
                     amp: Union[bool, str] = False, progress: bool = True) -> FeatureSet:
    """Run ``model(inputs, mode='tensor')`` over a loader after its data preprocessor.

    The model is put in eval mode for the pass (BN uses running statistics)
    and restored to its previous mode afterwards.

    Args:
        model: A :class:`BaseSelfSupervisor` (or any MMEngine model whose
            ``mode='tensor'`` forward returns pooled ``(N, C)`` features).
        dataloader: Yields ``dict(inputs=uint8 (N,3,H,W), data_samples=dict(gt_label=...))``.
        desc: Progress-bar label.
        amp: Autocast, as :func:`autocast_dtype` takes it: ``'bf16'``, ``'fp16'``, or
            ``True`` for bf16 on a CPU / fp16 on CUDA (features are stored as float32).
        progress: Show a tqdm bar on stderr.

    Returns:
        The features (float32) and labels (``-1`` where the data has none).
    """
    was_training = model.training
    model.eval()
    preprocessor = model.data_preprocessor
    device = next(model.parameters()).device
    dtype = autocast_dtype(amp, device.type)
    features, labels = [], []
    bar = tqdm(dataloader, desc=desc, unit='batch', disable=not progress, file=sys.stderr,
               dynamic_ncols=True, mininterval=0.5 if sys.stderr.isatty() else 30.0)
    try:
        for batch in bar:
            data = preprocessor(batch, training=False)
            with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                out = model(data['inputs'], mode='tensor')
            features.append(out.float().cpu())
            labels.append(_to_labels(batch.get('data_samples'), out.shape[0]))
    finally:
        bar.close()
        model.train(was_training)
    if not features:
        raise ValueError(f'{desc}: the dataset is empty, nothing to extract')
    return FeatureSet(torch.cat(features).numpy(), torch.cat(labels).numpy())


def cached_features(key: str, compute: Callable[[], FeatureSet],
                    use_cache: bool = True) -> Tuple[FeatureSet, bool]:
    """Load features stored under ``key``, or ``compute()`` and store them.

    Files: ``<feature_cache_dir()>/<key>.features.npy`` and ``.labels.npy``,
    each written atomically (labels last, so a present labels file means a
    complete entry). A damaged entry is recomputed, never trusted.

    Returns:
        The features and whether they came from the cache.
    """
    base = osp.join(feature_cache_dir(), key)
    feat_path, label_path = f'{base}.features.npy', f'{base}.labels.npy'
    if use_cache and osp.isfile(label_path) and osp.isfile(feat_path):
        try:
            return FeatureSet(np.load(feat_path), np.load(label_path)), True
        except (ValueError, OSError):
            for path in (feat_path, label_path):
                if osp.exists(path):
                    os.remove(path)
    result = compute()
    result = FeatureSet(np.ascontiguousarray(result.features, dtype=np.float32),
                        np.ascontiguousarray(result.labels, dtype=np.int64))
    if use_cache:
        # leftovers of killed writes; an hour spares another process still writing one
        remove_partial_writes(feature_cache_dir(), older_than_s=3600)
        atomic_save_npy(result.features, feat_path)
        atomic_save_npy(result.labels, label_path)
    return result, False


def make_eval_loader(dataset: Dataset, batch_size: int = 256, num_workers: int = 2) -> DataLoader:
    """An ordered (unshuffled) loader for feature extraction."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                      drop_last=False, persistent_workers=False)
