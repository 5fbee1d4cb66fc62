"""Few-label recipes (``configs/fewlabel/``) and the classifier checkpoint they train."""
from __future__ import annotations

import io
import os.path as osp
from typing import Any, Dict, Optional

import torch
from mmengine.config import Config

from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.utils.config_files import find_config

MODES = ('linear', 'knn', 'finetune')


def load_recipe(name: str, epochs: Optional[int]) -> Config:
    """The recipe (path or name) with ``epochs`` overriding its own."""
    recipe = Config.fromfile(str(find_config(name)))
    if recipe.get('mode') not in MODES:
        raise ValueError(f"recipe {name} has mode {recipe.get('mode')!r}; a few-label recipe sets "
                         f"mode to one of {', '.join(MODES)} (see configs/fewlabel/)")
    if epochs is not None:
        recipe[recipe.mode if recipe.mode == 'finetune' else 'probe']['epochs'] = epochs
    return recipe


def save_classifier(state: Dict[str, torch.Tensor], meta: Dict[str, Any], path: str) -> None:
    """The trained head (``state_dict`` on the CPU) and its ``meta``, written atomically."""
    buffer = io.BytesIO()
    torch.save(dict(state_dict={k: v.detach().cpu() for k, v in state.items()}, meta=meta), buffer)
    atomic_write_bytes(buffer.getvalue(), path)


def load_classifier(path: str) -> Dict[str, Any]:
    """A classifier checkpoint of :func:`save_classifier` (``weights_only=True``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'--teacher-head {path} not found; pass the '
                                '_classifier.pth that tools/train_few_labels.py wrote')
    return torch.load(path, map_location='cpu', weights_only=True)
