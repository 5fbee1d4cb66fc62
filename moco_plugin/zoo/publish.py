"""Release copies of training checkpoints: the weights only, named after their checksum.

A checkpoint written during training also holds the optimizer state, the
message hub and the RNG state: about half of its bytes for AdamW, none of it
useful to someone who downloads the weights. Like mmpretrain's
``publish_model.py``, :func:`publish_checkpoint` keeps the ``state_dict`` and
the descriptive part of ``meta``, and puts the first 8 hex digits of the new
file's sha256 into its name so that a file and its metafile entry can be
matched by eye.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import torch

from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.utils.safe_load import safe_torch_load
from moco_plugin.zoo.layouts import PROJECT, project_state_dict
from moco_plugin.zoo.schema import NAME_PATTERN

# What a user of the weights may want to know; the RNG state is training-only.
KEPT_META = ('epoch', 'iter', 'seed', 'experiment_name', 'time', 'mmengine_version',
             'dataset_meta', 'cfg', 'knn_history')


def release_content(checkpoint: Dict[str, Any], where: str = 'checkpoint') -> Dict[str, Any]:
    """``{'meta', 'state_dict'}`` of a project checkpoint, without the training state.

    Raises:
        ValueError: ``checkpoint`` is not in this project's layout (official
            releases are listed as they are published).
    """
    state, layout = project_state_dict(checkpoint, where)
    if layout != PROJECT:
        raise ValueError(f'{where} is not a checkpoint of this project; official releases are '
                         'listed as published')
    meta = checkpoint.get('meta') or {}
    return dict(meta={key: meta[key] for key in KEPT_META if key in meta}, state_dict=dict(state))


def publish_checkpoint(checkpoint_path: Union[str, Path], out_dir: Union[str, Path],
                       name: str) -> Tuple[Path, str]:
    """Write the release copy of ``checkpoint_path`` as ``out_dir/<name>_<sha256[:8]>.pth``.

    Args:
        checkpoint_path: A checkpoint of this project written by training.
        out_dir: Folder of release files (created if needed).
        name: The zoo name the file will be listed under.

    Returns:
        The path of the release file (written atomically) and its full sha256.

    Raises:
        ValueError: ``name`` is not a valid zoo name, or the file is not a
            checkpoint of this project (official releases are listed as they are).
    """

    if not NAME_PATTERN.match(name):
        raise ValueError(f'--name {name!r}: zoo names are lowercase letters, digits and _.-')
    checkpoint = safe_torch_load(str(checkpoint_path), map_location='cpu')
    buffer = io.BytesIO()
    torch.save(release_content(checkpoint, str(checkpoint_path)), buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    path = Path(out_dir) / f'{name}_{sha256[:8]}.pth'
    atomic_write_bytes(data, path)
    return path, sha256
