"""Checkpoint conversion: an official MoCo release into this project's layout, or the ResNet
of a MoCo checkpoint (either layout) exported for torchvision, detectron2 or MMEngine."""
from __future__ import annotations

from typing import List, Optional

from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.zoo.entries import describe_backbone
from moco_plugin.zoo.export import export, serialize
from moco_plugin.zoo.layouts import (PROJECT, RESNET_ARCHS, check_backbone_complete,
                                     official_to_project, project_state_dict)
from moco_plugin.zoo.loading import load_raw_checkpoint

TARGETS = ('project', 'torchvision', 'detectron2', 'mmengine')
USAGE_HINTS = {
    'project': "load_from = OUT, or init_cfg=dict(type='Pretrained', checkpoint=OUT)",
    'torchvision': 'm = torchvision.models.ARCH(); m.fc = torch.nn.Identity(); '
                   'm.load_state_dict(torch.load(OUT, weights_only=True))',
    'detectron2': 'train_net.py ... MODEL.WEIGHTS OUT (as with the official MoCo converter)',
    'mmengine': "backbone=dict(..., init_cfg=dict(type='Pretrained', checkpoint=OUT, "
                "prefix='backbone.'))",
}


def _torchvision_arch(state: dict) -> str:
    try:  # 'ResNet-50 (CIFAR stem)' -> 'resnet50'
        return describe_backbone(state).split()[0].replace('-', '').lower()
    except ValueError:
        return 'resnetXX'


def _stem_notes(state: dict) -> List[str]:
    stem = state.get('backbone.conv1.weight')
    if stem is None or tuple(stem.shape[-2:]) != (3, 3):
        return []
    return ['CIFAR stem (3x3 conv1, no max-pool): set m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, '
            'bias=False) and m.maxpool = nn.Identity() on the torchvision ResNet first']


def _tensor_count(result: dict, target: str) -> int:
    if target == 'detectron2':
        return len(result['model'])
    return len(result['state_dict'] if target in ('project', 'mmengine') else result)


def expected_arch(checkpoint, state: dict, arch: Optional[str], where: str) -> str:
    """``--arch``, else the official file's ``arch`` field, else the ResNet its blocks form."""
    recorded = checkpoint.get('arch') if isinstance(checkpoint, dict) else None
    if arch is not None:
        if isinstance(recorded, str) and recorded in RESNET_ARCHS and recorded != arch:
            raise ValueError(f'--arch {arch} given, but {where} records arch={recorded!r}')
        return arch
    if isinstance(recorded, str) and recorded in RESNET_ARCHS:
        return recorded
    named = _torchvision_arch(state)
    if named not in RESNET_ARCHS:
        raise ValueError(f'cannot tell which ResNet {where} should hold (its blocks form no '
                         f'standard one, the file may be incomplete); pass --arch, e.g. '
                         '--arch resnet50')
    return named


def convert(input_path: str, output_path: str, target: str, source: str = 'auto',
            encoder: str = 'query', arch: Optional[str] = None) -> str:
    """Convert ``input_path`` (file or ``zoo://NAME``) and write ``output_path`` atomically.

    The encoders must hold every tensor of the expected ResNet (``arch``; see
    :func:`expected_arch`), else nothing is written.

    Returns:
        What was written, notes on what was not converted, and how to load the result.
    """
    checkpoint = load_raw_checkpoint(input_path)
    # the key encoder is never a copy of the query one here: exporting it must find the real one
    state, layout = project_state_dict(checkpoint, input_path, fill_key_encoder=encoder == 'query')
    if source != 'auto' and source != layout:
        raise ValueError(f'--from {source} given, but {input_path} has the {layout} key layout')
    check_backbone_complete(state, expected_arch(checkpoint, state, arch, input_path), input_path)
    if target == 'project':
        if layout == PROJECT:
            raise ValueError(f'{input_path} is already in the project layout; choose --to '
                             'torchvision, detectron2 or mmengine to export it')
        result = official_to_project(checkpoint)
        result['meta']['conversion']['source'] = input_path
        notes = result['meta']['conversion']['notes']
    else:
        result = export({'state_dict': state}, target, encoder, source=input_path)
        notes = _stem_notes(state)
    atomic_write_bytes(serialize(result, target), output_path)
    summary = (f'wrote {output_path}: {target} format, {_tensor_count(result, target)} tensors '
               f'from the {layout} checkpoint {input_path}'
               + ('' if target == 'project' else f' ({encoder} encoder)'))
    hint = USAGE_HINTS[target].replace('OUT', repr(output_path))
    hint = hint.replace('ARCH', _torchvision_arch(state))
    return '\n'.join([summary, *[f'note: {n}' for n in notes], f'load it with: {hint}'])
