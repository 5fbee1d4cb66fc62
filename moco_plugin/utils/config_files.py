"""Configs shipped inside the package, found by name from any working directory.

``moco_plugin/configs/`` is installed with the package (a wheel holds it too), so
``moco-train mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu`` works without a
source checkout. A path that exists is used as it is.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

PACKAGED_CONFIGS = Path(__file__).resolve().parents[1] / 'configs'


class ConfigNotFoundError(FileNotFoundError):
    """Neither a config file nor the name of a packaged config."""


def packaged_config_names() -> List[str]:
    """Names (file stems) of the configs users run; ``_base_`` files are not among them.

    Example:
        >>> 'mocov2_resnet18_1xb256-coslr-200e_cifar10' in packaged_config_names()
        True
    """
    return sorted(p.stem for p in PACKAGED_CONFIGS.rglob('*.py') if '_base_' not in p.parts)


def find_config(name_or_path: Union[str, Path]) -> Path:
    """The config file for a path, a packaged config's name, or ``folder/name``.

    ``configs/mocov2/x.py``, ``mocov2/x.py``, ``x.py`` and ``x`` all find the packaged
    ``x``; a path to an existing file wins over a packaged name.

    Raises:
        ConfigNotFoundError: Nothing matches; the message names the closest configs.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise ConfigNotFoundError(f'config {name_or_path} is a folder; pass one of its .py files')
    relative = Path(*path.parts[1:]) if path.parts[:1] == ('configs',) else path
    candidates = [PACKAGED_CONFIGS / relative, PACKAGED_CONFIGS / relative.with_suffix('.py')]
    for candidate in candidates:
        if candidate.is_file() and '_base_' not in candidate.parts:
            return candidate
    stem = relative.name[:-3] if relative.name.endswith('.py') else relative.name
    matches = [p for p in PACKAGED_CONFIGS.rglob(f'{stem}.py') if '_base_' not in p.parts]
    if len(matches) == 1:
        return matches[0]
    close = difflib.get_close_matches(stem, packaged_config_names(), n=3, cutoff=0.6)
    hint = f'did you mean {", ".join(close)}?' if close else 'list them with: moco-train --list-configs'
    raise ConfigNotFoundError(f'config not found: {name_or_path} (no such file and no packaged '
                              f'config of that name); {hint}')


def pretraining_dataset_cfg(cfg) -> Dict[str, Any]:
    """The innermost dataset config of ``cfg.train_dataloader`` (wrappers such as RepeatDataset unwrapped)."""
    loader = cfg.get('train_dataloader') if hasattr(cfg, 'get') else None
    dataset = loader.get('dataset') if loader else None
    if not dataset:
        raise ValueError('the config has no train_dataloader.dataset; the benchmark reads the '
                         'dataset type and data root from it')
    while dataset.get('dataset') is not None:
        dataset = dataset['dataset']
    return copy.deepcopy(dict(dataset))


def training_image_size(cfg) -> Optional[int]:
    """The side of the views a config trains on: the batched augmentation's ``size``, else
    the first view transform's ``size`` (``None`` when the config names none)."""
    model = cfg.get('model') or {}
    batch_augment = (model.get('data_preprocessor') or {}).get('batch_augment') or {}
    if batch_augment.get('size'):
        return int(batch_augment['size'])
    try:
        pipeline = pretraining_dataset_cfg(cfg).get('pipeline') or []
    except ValueError:
        return None
    for step in pipeline:
        for transform in [step, *(step.get('transforms') or [])]:
            if isinstance(transform, dict) and transform.get('size'):
                return int(transform['size'])
    return None
