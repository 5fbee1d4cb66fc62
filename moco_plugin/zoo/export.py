"""Export a MoCo encoder's ResNet to downstream formats.

* ``torchvision``: a plain ``state_dict`` with torchvision's ResNet keys and no
  ``fc``; ``torchvision.models.resnet50()`` loads it with ``strict=True`` once its
  ``fc`` is replaced (e.g. by ``nn.Identity()``).
* ``detectron2``: the pickle that the official
  ``moco/detection/convert-pretrain-to-detectron2.py`` writes:
  ``{'model': {d2_key: numpy array}, '__author__': 'MOCO', 'matching_heuristics': True}``.
  Only the ResNet is exported; the official script also carries the projection as
  ``stem.fc.*``, which detectron2 ignores as unmatched.
* ``mmengine``: ``{'meta': ..., 'state_dict': {'backbone.<key>': tensor}}``, for
  mmpretrain/mmdetection (``init_cfg=dict(type='Pretrained', checkpoint=...,
  prefix='backbone.')``, or ``load_from`` of a detector with a ``backbone``).
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from typing import Any, Dict, Mapping

import torch

from moco_plugin.zoo.layouts import project_state_dict

ENCODERS = {'query': 'backbone.', 'key': 'key_backbone.'}
FORMATS = ('torchvision', 'detectron2', 'mmengine')


def backbone_state_dict(checkpoint: Any, encoder: str = 'query'
                        ) -> 'OrderedDict[str, torch.Tensor]':
    """torchvision ResNet keys (no ``fc``) of one encoder of a checkpoint in either layout.

    Args:
        checkpoint: A loaded official or project checkpoint.
        encoder: ``'query'`` (the encoder trained by gradient, what the MoCo
            authors transfer) or ``'key'`` (its momentum average).
    """
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r}")
    # never export a copy of the query encoder labelled as the key encoder
    state, _ = project_state_dict(checkpoint, fill_key_encoder=encoder == 'query')
    prefix = ENCODERS[encoder]
    backbone = OrderedDict((k[len(prefix):], v) for k, v in state.items() if k.startswith(prefix))
    if not backbone:
        raise ValueError(f'the checkpoint has no {encoder} encoder ({prefix}* or encoder_'
                         f'{encoder[0]}.* keys); export --encoder '
                         f'{"query" if encoder == "key" else "key"} instead')
    return backbone


def _plain_tensors(state: Mapping[str, torch.Tensor], prefix: str = ''
                   ) -> 'OrderedDict[str, torch.Tensor]':
    # Detached contiguous copies: a saved file then holds no views into larger storages
    # (e.g. a transposed queue) and no autograd history.
    return OrderedDict((prefix + k, v.detach().clone().contiguous()) for k, v in state.items())


def detectron2_key(key: str) -> str:
    """detectron2's ResNet name of a torchvision ResNet key (official MoCo renaming)."""
    if 'layer' not in key:
        key = 'stem.' + key
    for stage in (1, 2, 3, 4):
        key = key.replace(f'layer{stage}', f'res{stage + 1}')
    for index in (1, 2, 3):
        key = key.replace(f'bn{index}', f'conv{index}.norm')
    return key.replace('downsample.0', 'shortcut').replace('downsample.1', 'shortcut.norm')


def to_torchvision(checkpoint: Any, encoder: str = 'query') -> 'OrderedDict[str, torch.Tensor]':
    """A torchvision ResNet ``state_dict`` without ``fc`` (load after replacing ``fc``)."""
    return _plain_tensors(backbone_state_dict(checkpoint, encoder))


def to_detectron2(checkpoint: Any, encoder: str = 'query') -> Dict[str, Any]:
    """The detectron2 ``.pkl`` content (numpy arrays under detectron2's ResNet names)."""
    model = OrderedDict()
    for key, value in backbone_state_dict(checkpoint, encoder).items():
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:  # numpy has no bfloat16
            value = value.float()
        model[detectron2_key(key)] = value.numpy()
    return {'model': model, '__author__': 'MOCO', 'matching_heuristics': True}


def to_mmengine(checkpoint: Any, encoder: str = 'query', source: str = '') -> Dict[str, Any]:
    """An MMEngine checkpoint holding only ``backbone.``-prefixed ResNet weights."""
    state = _plain_tensors(backbone_state_dict(checkpoint, encoder), prefix='backbone.')
    meta = {'exported_by': 'moco_plugin.zoo', 'encoder': encoder, 'source': source,
            'keys': 'torchvision ResNet keys prefixed with backbone.'}
    return {'meta': meta, 'state_dict': state}


def export(checkpoint: Any, fmt: str, encoder: str = 'query', source: str = '') -> Any:
    """Dispatch to :func:`to_torchvision`, :func:`to_detectron2` or :func:`to_mmengine`."""
    if fmt == 'torchvision':
        return to_torchvision(checkpoint, encoder)
    if fmt == 'detectron2':
        return to_detectron2(checkpoint, encoder)
    if fmt == 'mmengine':
        return to_mmengine(checkpoint, encoder, source)
    raise ValueError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def serialize(obj: Any, fmt: str) -> bytes:
    """File bytes: a pickle for detectron2 (what it expects), ``torch.save`` otherwise."""
    if fmt == 'detectron2':
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()
