"""Checkpoint key layouts: the official MoCo release and this project's MoCo model.

Official (facebookresearch/moco ``main_moco.py``, saved from DDP)::

    {'epoch', 'arch', 'state_dict', 'optimizer'}
    state_dict: module.encoder_q.<torchvision ResNet keys>   query encoder
                module.encoder_q.fc.{weight,bias}             v1 projection (Linear)
                module.encoder_q.fc.{0,2}.{weight,bias}       v2 projection (MLP)
                module.encoder_k.*                            key encoder (same keys)
                module.queue (dim, K), module.queue_ptr (1,)  only when saved

This project (an MMEngine checkpoint of :class:`~moco_plugin.models.MoCo`)::

    {'meta', 'state_dict', 'optimizer', 'message_hub', 'param_schedulers'}
    state_dict: backbone.*, neck.fc.* | neck.head.layers.{0,2}.*,
                key_backbone.*, key_neck.*, queue.features (K, dim), queue.ptr ()
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Tuple

import torch

from moco_plugin.models.utils import FeatureQueue

OFFICIAL = 'official'
PROJECT = 'project'
LAYOUTS = (OFFICIAL, PROJECT)

# (official encoder prefix, our backbone prefix, our neck prefix)
_ENCODERS = (('encoder_q.', 'backbone.', 'neck.'), ('encoder_k.', 'key_backbone.', 'key_neck.'))
QUEUE_KEYS = ('queue.features', 'queue.ptr', 'queue.indices')


def state_dict_of(checkpoint: Any, where: str = 'checkpoint') -> Mapping[str, torch.Tensor]:
    """The tensor mapping inside ``checkpoint`` (its ``state_dict`` entry, or itself)."""
    if isinstance(checkpoint, Mapping):
        inner = checkpoint.get('state_dict')
        if isinstance(inner, Mapping):
            return inner
        if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
    raise ValueError(f'{where} holds no state_dict (a mapping of names to tensors); '
                     'expected a MoCo or MMEngine checkpoint')


def _strip_module(key: str) -> str:
    return key[len('module.'):] if key.startswith('module.') else key


def is_official_layout(checkpoint: Any) -> bool:
    """Whether ``checkpoint`` has the official MoCo keys (never raises)."""
    try:
        keys = state_dict_of(checkpoint).keys()
    except ValueError:
        return False
    return any(_strip_module(k).startswith('encoder_q.') for k in keys)


def detect_layout(checkpoint: Any, where: str = 'checkpoint') -> str:
    """``'official'`` or ``'project'``; a ``ValueError`` describes anything else."""
    keys = list(state_dict_of(checkpoint, where).keys())
    if is_official_layout(checkpoint):
        return OFFICIAL
    if any(_strip_module(k).startswith('backbone.') for k in keys):
        return PROJECT
    if 'conv1.weight' in keys and any(k.startswith('layer1.') for k in keys):
        raise ValueError(f'{where} is a plain ResNet state_dict (no MoCo encoders), probably '
                         'already exported; load it into a torchvision ResNet directly')
    raise ValueError(f'cannot tell the layout of {where}: expected keys module.encoder_q.* '
                     '(official MoCo) or backbone.* (this project), first keys: '
                     f'{", ".join(keys[:4])}')


def _neck_key(rest: str, neck: str, original: str) -> str:
    """Official ``fc`` (v1 Linear, v2 Sequential fc.0/ReLU/fc.2) -> our neck keys."""
    parts = rest.split('.')
    if len(parts) == 2:  # fc.weight: v1 LinearNeck
        return f'{neck}fc.{parts[1]}'
    if len(parts) == 3 and parts[1] in ('0', '2'):  # fc.0.weight: v2 MoCoV2Neck
        return f'{neck}head.layers.{parts[1]}.{parts[2]}'
    raise ValueError(f'unexpected key {original} in the official checkpoint: the projection is '
                     'either fc.{weight,bias} (v1) or fc.0/fc.2 (v2 MLP)')


def _official_key(key: str) -> str:
    plain = _strip_module(key)
    for official, backbone, neck in _ENCODERS:
        if plain.startswith(official):
            rest = plain[len(official):]
            return _neck_key(rest, neck, key) if rest.startswith('fc.') else backbone + rest
    raise ValueError(f'unexpected key {key} in the official checkpoint (expected encoder_q.*, '
                     'encoder_k.*, queue or queue_ptr)')


def official_to_project(checkpoint: Mapping[str, Any], fill_key_encoder: bool = True
                        ) -> Dict[str, Any]:
    """Convert an official MoCo checkpoint into this project's checkpoint layout.

    Args:
        checkpoint: The loaded official file.
        fill_key_encoder: If the file has no ``encoder_k`` (e.g. a query-only export),
            start the key encoder as a copy of the query encoder, which is how MoCo
            initialises it; recorded in ``meta['conversion']['notes']``.

    Returns:
        ``{'meta': {...}, 'state_dict': ...}``; ``meta['conversion']`` records what the
        source held (``epoch``, ``arch``, projection type) and what was left out
        (the official optimizer state, whose parameter order is not ours).

    Raises:
        ValueError: A key that has no counterpart in this project (listed by name).
    """
    source = state_dict_of(checkpoint, 'official checkpoint')
    converted: Dict[str, torch.Tensor] = OrderedDict()
    unknown: List[str] = []
    for key, value in source.items():
        plain = _strip_module(key)
        if plain == 'queue':  # official (dim, K) -> ours (K, dim); the images are not recorded
            converted['queue.features'] = value.t().contiguous()
            converted['queue.indices'] = torch.full((value.shape[1],), FeatureQueue.UNKNOWN_IMAGE,
                                                    dtype=torch.long)
        elif plain == 'queue_ptr':
            converted['queue.ptr'] = value.reshape(()).to(torch.long)
        else:
            try:
                converted[_official_key(key)] = value
            except ValueError:
                unknown.append(key)
    if unknown:
        raise ValueError(f'the official checkpoint has keys with no counterpart in this project: '
                         f'{", ".join(unknown)}')
    notes: List[str] = []
    if not any(k.startswith('key_backbone.') for k in converted):
        if not fill_key_encoder:
            raise ValueError('the official checkpoint has no encoder_k.* keys (key encoder); '
                             'pass fill_key_encoder=True to start it as a copy of the query '
                             'encoder')
        for key in [k for k in converted if k.startswith(('backbone.', 'neck.'))]:
            converted['key_' + key] = converted[key].clone()
        notes.append('no encoder_k in the file: key encoder copied from the query encoder')
    if 'queue.features' not in converted:
        notes.append('no queue in the file: queue.features/ptr/indices keep their initial values '
                     '(the queue refills within K / batch_size iterations)')
    dropped = [k for k in checkpoint if k not in ('state_dict', 'epoch', 'arch')] \
        if 'state_dict' in checkpoint else []
    if dropped:
        notes.append(f'not converted: {", ".join(dropped)} (official optimizer state does not '
                     "match this project's parameter order)")
    projection = 'mlp' if any('.head.layers.' in k for k in converted) else 'linear'
    meta = {'conversion': {
        'from': OFFICIAL, 'epoch': checkpoint.get('epoch'), 'arch': checkpoint.get('arch'),
        'projection': projection, 'has_queue': 'queue.features' in converted, 'notes': notes}}
    return {'meta': meta, 'state_dict': converted}


def project_state_dict(checkpoint: Any, where: str = 'checkpoint', fill_key_encoder: bool = True
                       ) -> Tuple[Dict[str, Any], str]:
    """This project's state dict of ``checkpoint`` in either layout, and the source layout.

    ``fill_key_encoder=False`` leaves an official file without ``encoder_k`` without
    key-encoder weights (instead of copying the query encoder's), for exports.
    """
    layout = detect_layout(checkpoint, where)
    if layout == OFFICIAL:
        state = official_to_project(checkpoint)['state_dict']
        if not fill_key_encoder and not any(_strip_module(k).startswith('encoder_k.')
                                            for k in state_dict_of(checkpoint)):
            state = OrderedDict((k, v) for k, v in state.items()
                                if not k.startswith(('key_backbone.', 'key_neck.')))
        return state, layout
    state = state_dict_of(checkpoint, where)
    return OrderedDict((_strip_module(k), v) for k, v in state.items()), layout


def convert_if_official(checkpoint: Any) -> Any:
    """Convert an official MoCo checkpoint to the project layout; return others unchanged.

    Used by the MMEngine checkpoint loaders, so ``load_from``/``init_cfg`` accept the
    official files (otherwise MMEngine would report every key as unexpected).
    """
    if not is_official_layout(checkpoint):
        return checkpoint
    converted = official_to_project(checkpoint)
    from mmengine.logging import print_log
    info = converted['meta']['conversion']
    print_log(f'converted an official MoCo checkpoint (epoch {info["epoch"]}, {info["arch"]}, '
              f'{info["projection"]} projection) to moco_plugin keys'
              + ''.join(f'; {note}' for note in info['notes']), logger='current')
    return converted


RESNET_ARCHS = ('resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152')


def expected_backbone_shapes(arch: str) -> Dict[str, Tuple[int, ...]]:
    """Tensor names and shapes of torchvision's ``arch`` without ``fc`` (our backbone keys)."""
    import torchvision
    if arch not in RESNET_ARCHS:
        raise ValueError(f'unknown architecture {arch!r}; choose one of {", ".join(RESNET_ARCHS)}')
    net = getattr(torchvision.models, arch)()
    return {k: tuple(v.shape) for k, v in net.state_dict().items() if not k.startswith('fc.')}


def check_backbone_complete(state: Mapping[str, torch.Tensor], arch: str,
                            where: str = 'checkpoint') -> None:
    """Refuse a state dict whose encoders lack tensors of ``arch`` (or have others).

    Every encoder present (``backbone.``, ``key_backbone.``) must hold each tensor of
    torchvision's ``arch`` with its shape; only the stem convolution may be the 3x3
    CIFAR one. A file with a block or one tensor missing (an interrupted download,
    a hand-edited state dict) would otherwise convert "successfully".

    Raises:
        ValueError: One line with the counts and the first names.
    """
    expected = expected_backbone_shapes(arch)
    for prefix in ('backbone.', 'key_backbone.'):
        found = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not found:
            continue
        # BatchNorm fills a missing num_batches_tracked itself (files of old torch versions)
        missing = [k for k in expected if k not in found and not k.endswith('num_batches_tracked')]
        unexpected = [k for k in found if k not in expected]
        shapes = [f'{k} {tuple(v.shape)} instead of {expected[k]}' for k, v in found.items()
                  if k in expected and tuple(v.shape) != expected[k]
                  and not (k == 'conv1.weight' and tuple(v.shape) == (64, 3, 3, 3))]
        parts = [f'{len(v)} {what} (first: {", ".join(v[:3])})' for what, v in (
            ('missing', missing), ('unexpected', unexpected), ('of another shape', shapes)) if v]
        if parts:
            raise ValueError(f'{where} does not hold a complete {arch} {prefix[:-1]}: '
                             f'{"; ".join(parts)}; download or export it again, or pass the '
                             'right --arch')
