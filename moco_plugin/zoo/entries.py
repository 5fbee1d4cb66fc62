"""Build a metafile entry for a checkpoint trained with this project.

Everything that can be read from the files is read, never typed in: the sha256
from the checkpoint, the backbone from its weights, the epoch count from its
MMEngine ``meta``, and the accuracies from the benchmark's JSON result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from moco_plugin.utils.hashing import sha256_of_file, sha256_of_state_dict
from moco_plugin.utils.safe_load import safe_torch_load
from moco_plugin.zoo.export import backbone_state_dict
from moco_plugin.zoo.layouts import PROJECT, project_state_dict
from moco_plugin.zoo.metafile import read_json
from moco_plugin.zoo.schema import ZooEntry

_RESNET_DEPTHS = {('basic', (2, 2, 2, 2)): 18, ('basic', (3, 4, 6, 3)): 34,
                  ('bottleneck', (3, 4, 6, 3)): 50, ('bottleneck', (3, 4, 23, 3)): 101,
                  ('bottleneck', (3, 8, 36, 3)): 152}


def describe_backbone(state_dict: Dict[str, Any], prefix: str = 'backbone.') -> str:
    """``'ResNet-18 (CIFAR stem)'``-style name of the ResNet whose weights are in ``state_dict``."""
    blocks = []
    for stage in range(1, 5):
        indices = {int(m.group(1)) for k in state_dict
                   for m in [re.match(rf'{re.escape(prefix)}layer{stage}\.(\d+)\.', k)] if m}
        blocks.append(len(indices))
    kind = 'bottleneck' if f'{prefix}layer1.0.conv3.weight' in state_dict else 'basic'
    depth = _RESNET_DEPTHS.get((kind, tuple(blocks)))
    if depth is None:
        raise ValueError(f'cannot name the backbone: {kind} ResNet with blocks {blocks}; '
                         'pass --backbone')
    stem = state_dict.get(f'{prefix}conv1.weight')
    cifar = stem is not None and tuple(stem.shape[-2:]) == (3, 3)
    return f'ResNet-{depth}' + (' (CIFAR stem)' if cifar else '')


@dataclass(frozen=True)
class BenchmarkNumbers:
    """Accuracies read from a benchmark result, in percent (``None``: not in the result)."""

    knn_top1: Optional[float]
    linear_top1: Optional[float]
    knn_k: Optional[str]
    checkpoint_sha256: Optional[str] = None  # of the file that was benchmarked, when recorded
    weights_sha256: Optional[str] = None  # of its backbone's state dict, when recorded
    linear_lr: Optional[float] = None  # the probe's base lr, when recorded
    linear_lr_swept: bool = False  # whether that lr was chosen on held-out training images


def _percent(value: Any, where: str, field: str, method: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{where}: {field} is not a number ({value!r})')
    if value <= 1.0:  # a fraction or a broken run: the zoo records percent
        raise ValueError(f'{where}: {field}={value} looks like a fraction, the zoo records '
                         f'percent; pass --{method}-top1 in percent')
    return float(value)


def _knn(result: Dict[str, Any], knn_k: Optional[int], where: str
         ) -> Tuple[Optional[float], Optional[str]]:
    if 'knn_top1' in result:
        return _percent(result['knn_top1'], where, 'knn_top1', 'knn'), None
    knn = result.get('knn')
    if not isinstance(knn, dict):
        return None, None
    if 'top1' in knn:
        return _percent(knn['top1'], where, 'knn.top1', 'knn'), None
    per_k = {str(k): v['top1'] for k, v in knn.items() if isinstance(v, dict) and 'top1' in v}
    if not per_k:
        return None, None
    if knn_k is not None:
        chosen = str(knn_k)
        if chosen not in per_k:
            raise ValueError(f'{where} has no k-NN result for k={knn_k} '
                             f'(has k={", ".join(per_k)})')
    elif len(per_k) == 1:
        chosen = next(iter(per_k))
    elif '200' in per_k:
        chosen = '200'  # the k of MoCo's CIFAR-10 k-NN monitor, the usual number to report
    else:
        raise ValueError(f'{where} has k-NN results for k={", ".join(per_k)}; choose one with '
                         '--knn-k')
    return _percent(per_k[chosen], where, f'knn.{chosen}.top1', 'knn'), chosen


def metrics_from_benchmark(path: Union[str, Path], knn_k: Optional[int] = None
                           ) -> BenchmarkNumbers:
    """k-NN and linear top-1 from a ``tools/benchmark_linear.py`` JSON result.

    Reads ``linear.top1`` (accuracy after the last probe epoch, as the MoCo
    protocol reports; not ``best_top1``) and ``knn.<k>.top1`` (``k`` from
    ``knn_k``, else the only one, else 200). Flat ``knn_top1``/``linear_top1``
    fields are accepted too.
    """
    path = Path(path)
    result = read_json(path, 'benchmark result')
    if not isinstance(result, dict):
        raise ValueError(f'{path}: expected a JSON object with knn / linear results')
    knn_top1, chosen_k = _knn(result, knn_k, str(path))
    linear = result.get('linear')
    linear_top1 = (_percent(linear.get('top1'), str(path), 'linear.top1', 'linear')
                   if isinstance(linear, dict)
                   else _percent(result.get('linear_top1'), str(path), 'linear_top1', 'linear'))
    linear_settings = (linear.get('settings') or {}) if isinstance(linear, dict) else {}
    return BenchmarkNumbers(knn_top1, linear_top1, chosen_k, result.get('checkpoint_sha256'),
                            result.get('weights_sha256'), linear_settings.get('lr'),
                            bool(isinstance(linear, dict) and linear.get('lr_sweep')))


def _measured_these_weights(numbers: BenchmarkNumbers, file_sha256: str,
                            state: Dict[str, Any]) -> bool:
    """Whether a benchmark result describes this file: the same file, or the same backbone.

    A release copy (:func:`~moco_plugin.zoo.publish.publish_checkpoint`) is
    another file with the same weights; the backbone's state-dict hash, which
    the benchmark records, shows that its numbers still apply.
    """
    if numbers.checkpoint_sha256 in (None, file_sha256):
        return True
    if numbers.weights_sha256 is None:
        return False
    return sha256_of_state_dict(backbone_state_dict({'state_dict': state})) == numbers.weights_sha256


def checkpoint_url(path: Path) -> str:
    """How the metafile points at a local file: relative to the working directory if inside
    it (the checkout that wrote it), else a ``file://`` URL."""
    path = path.resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_uri()


def make_project_entry(checkpoint_path: Union[str, Path], name: str, algorithm: str, config: str,
                       batch_size: int, data: str, eval_data: str,
                       benchmark: Optional[Union[str, Path]] = None,
                       knn_k: Optional[int] = None,
                       knn_top1: Optional[float] = None, linear_top1: Optional[float] = None,
                       epochs: Optional[int] = None, backbone: Optional[str] = None,
                       url: Optional[str] = None, reproduce: Optional[str] = None,
                       notes: Optional[str] = None) -> ZooEntry:
    """A validated-ready :class:`ZooEntry` for a local checkpoint of this project.

    Args:
        checkpoint_path: The ``.pth`` written by training (MMEngine checkpoint).
        name: The zoo name (``zoo://NAME``).
        algorithm: One of the metafile's algorithm names, e.g. ``'MoCo v2'``.
        config: The config it was trained with, relative to the repository root.
        batch_size: Total batch size over all devices.
        data: Pretraining data, e.g. ``'CIFAR-10 train'``.
        eval_data: Where the accuracies were measured, e.g. ``'CIFAR-10 test'``.
        benchmark: JSON result of ``tools/benchmark_linear.py`` to take the
            accuracies from (:func:`metrics_from_benchmark`).
        knn_k: Which k-NN result of the benchmark to record (default: the only one, or 200).
        knn_top1: Overrides the benchmark's k-NN top-1 (percent).
        linear_top1: Overrides the benchmark's linear top-1 (percent).
        epochs: Default: the checkpoint's ``meta['epoch']``.
        backbone: Default: read from the weights (:func:`describe_backbone`).
        url: Where users download it (e.g. a release asset); default: the local file.
        reproduce: Default: ``python tools/train.py CONFIG``.
        notes: Free text for the table.
    """

    checkpoint_path = Path(checkpoint_path)
    checkpoint = safe_torch_load(str(checkpoint_path), map_location='cpu')
    state, layout = project_state_dict(checkpoint, str(checkpoint_path))
    if layout != PROJECT:
        raise ValueError(f'{checkpoint_path} is not a checkpoint of this project; official '
                         'releases are listed with source "official" by editing the metafile')
    if epochs is None:
        epochs = (checkpoint.get('meta') or {}).get('epoch')
        if epochs is None:
            raise ValueError(f'{checkpoint_path} records no epoch in its meta; pass --epochs')
    sha256 = sha256_of_file(checkpoint_path)
    numbers = metrics_from_benchmark(benchmark, knn_k) if benchmark else None
    if numbers is not None and not _measured_these_weights(numbers, sha256, state):
        raise ValueError(f'{benchmark} was measured on another file (sha256 '
                         f'{numbers.checkpoint_sha256[:16]}..., {checkpoint_path} has '
                         f'{sha256[:16]}...) with other backbone weights; benchmark this '
                         'checkpoint')
    if numbers is not None:
        knn_top1 = knn_top1 if knn_top1 is not None else numbers.knn_top1
        linear_top1 = linear_top1 if linear_top1 is not None else numbers.linear_top1
        k_text = f', k-NN k={numbers.knn_k}' if numbers.knn_k else ''
        if numbers.linear_top1 is not None and numbers.linear_lr is not None:
            k_text += (f', linear lr {numbers.linear_lr:g}'
                       + (' chosen on held-out training images' if numbers.linear_lr_swept
                          else ''))
        metrics_source = f'tools/benchmark_linear.py result {Path(benchmark).name}{k_text}'
    elif knn_top1 is not None or linear_top1 is not None:
        metrics_source = 'given to tools/model_zoo.py add'
    else:
        metrics_source = 'not measured yet'
    return ZooEntry(
        name=name, algorithm=algorithm, source='project',
        backbone=backbone or describe_backbone(state), epochs=int(epochs),
        batch_size=batch_size, data=data, eval_data=eval_data, knn_top1=knn_top1,
        linear_top1=linear_top1, metrics_source=metrics_source, config=config,
        url=url or checkpoint_url(checkpoint_path), sha256=sha256,
        md5_prefix=None, reproduce=reproduce or f'python tools/train.py {config}', notes=notes)
