"""Checkpoints by name or path: ``zoo://NAME`` everywhere, strict loading with named mismatches.

Importing this module (``moco_plugin.engine`` does) registers with MMEngine's
``CheckpointLoader``:

* ``zoo://NAME``: so ``load_from``, ``--resume`` and
  ``init_cfg=dict(type='Pretrained', checkpoint='zoo://NAME')`` download (or take
  from the cache) the named checkpoint;
* ``http(s)://``: MMEngine's own loader unpickles with ``weights_only=False``.

Both read with ``weights_only=True`` and return official MoCo releases in this
project's key layout, so MMEngine matches their keys.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

import torch
from torch import nn

from mmengine.runner.checkpoint import CheckpointLoader

from moco_plugin.engine.checkpoint_io import register_checkpoint_converter
from moco_plugin.utils.cache import cache_dir
from moco_plugin.utils.safe_load import safe_torch_load
from moco_plugin.zoo.download import Checksum, ChecksumError, download_file
from moco_plugin.zoo.layouts import QUEUE_KEYS, convert_if_official
from moco_plugin.zoo.metafile import load_zoo
from moco_plugin.zoo.schema import ModelZoo, ZooEntry

ZOO_PREFIX = 'zoo://'


def checkpoint_cache_dir() -> Path:
    """``<cache_dir()>/checkpoints``; ``MOCO_CACHE_DIR`` moves the whole cache."""
    return Path(cache_dir()) / 'checkpoints'


def cache_path(entry: ZooEntry) -> Path:
    """Where a remote entry is cached: ``<name><suffixes of the URL's file name>``."""
    from urllib.parse import urlparse
    basename = Path(urlparse(entry.url).path).name
    suffixes = ''.join(Path(basename).suffixes)
    return checkpoint_cache_dir() / f'{entry.name}{suffixes}'


def entry_checksum(entry: ZooEntry) -> Checksum:
    return Checksum(sha256=entry.sha256, md5_prefix=entry.md5_prefix)


def download_checkpoint(name: str, progress: bool = True, zoo: Optional[ModelZoo] = None,
                        retries: int = 2) -> Path:
    """Local path of the zoo checkpoint ``name``, downloading and verifying it if needed.

    A cached file that matches its checksum is used without network access.
    Entries with a ``file://`` URL or a local path are verified in place.

    Args:
        name: A name listed by ``python tools/download_checkpoint.py --list``.
        progress: Show a progress bar while downloading.
        zoo: The model zoo to look in (default: the built-in metafile plus ``MOCO_ZOO_FILES``).
        retries: Resumes of a dropped connection within this call.

    Raises:
        UnknownCheckpointError: No such name (the message suggests close ones).
        DownloadError: The download failed (see :func:`download_file`).
        ChecksumError: The file does not match the metafile's checksum.
    """
    entry = (zoo or load_zoo()).get(name)
    if entry.is_remote:
        return download_file(entry.url, cache_path(entry), entry_checksum(entry),
                             progress=progress, retries=retries)
    path = entry.local_path()
    if not path.is_file():  # a local entry is one listed before its upload
        raise FileNotFoundError(
            f'zoo checkpoint {name} is not downloadable: its metafile entry points to the local '
            f'file {entry.url}, which is not on this machine (not uploaded yet); reproduce it '
            f'with: {entry.reproduce}')
    problem = entry_checksum(entry).mismatch(path)
    if problem is not None:  # never delete a user's own file: just refuse it
        raise ChecksumError(f'checksum mismatch for zoo checkpoint {name} ({path}): {problem}')
    return path


def url_cache_path(url: str) -> Path:
    """Cache path of an ad-hoc URL (not in the zoo): keyed by a hash of the whole URL."""
    import hashlib
    from urllib.parse import urlparse
    digest = hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]
    return checkpoint_cache_dir() / 'urls' / f'{digest}-{Path(urlparse(url).path).name or "file"}'


def resolve_checkpoint(source: Union[str, Path], progress: bool = True) -> Path:
    """A local file for ``source``: a path, ``zoo://NAME`` or an http(s) URL (cached)."""
    source = str(source)
    if source.startswith(ZOO_PREFIX):
        return download_checkpoint(source[len(ZOO_PREFIX):], progress=progress)
    if source.startswith(('http://', 'https://')):
        # No published checksum for an arbitrary URL: the zoo's entries carry one.
        return download_file(source, url_cache_path(source), None, progress=progress)
    path = Path(source).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {source}; pass a file or zoo://NAME')
    return path


def load_raw_checkpoint(source: Union[str, Path], map_location: Any = 'cpu',
                        progress: bool = True) -> Any:
    """Read a checkpoint (path, ``zoo://NAME`` or URL) safely, in the layout it was saved in
    (the converter reads official files as they are)."""
    return safe_torch_load(str(resolve_checkpoint(source, progress)), map_location=map_location)


def load_checkpoint(source: Union[str, Path], map_location: Any = 'cpu',
                    progress: bool = True) -> Dict[str, Any]:
    """Read a checkpoint (path or ``zoo://NAME``) safely, in this project's layout.

    ``weights_only=True`` always; official MoCo files are converted
    (:func:`~moco_plugin.zoo.layouts.convert_if_official`).
    """
    return convert_if_official(load_raw_checkpoint(source, map_location, progress))


def load_from_zoo(filename: str, map_location: Any = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme for ``zoo://NAME``."""
    return load_checkpoint(filename, map_location=map_location)


def load_from_url_safely(filename: str, map_location: Any = None) -> Any:
    """MMEngine scheme for ``http(s)://``: MMEngine's own goes through ``torch.hub.load_url``,
    which unpickles with ``weights_only=False``; this one reads with ``weights_only=True``."""
    return load_checkpoint(filename, map_location=map_location)


class KeyMismatchError(RuntimeError):
    """A state dict does not match a model; the message names every offending key."""


def _names(keys: Iterable[str], limit: int = 20) -> str:
    keys = sorted(keys)
    shown = ', '.join(keys[:limit])
    return shown + (f' and {len(keys) - limit} more' if len(keys) > limit else '')


def load_state_dict_strictly(model: nn.Module, state_dict: Mapping[str, torch.Tensor],
                             allow_missing: Iterable[str] = ()) -> List[str]:
    """``model.load_state_dict`` that lists missing, unexpected and mis-shaped keys by name.

    Args:
        model: The receiving model.
        state_dict: Weights in the model's key layout.
        allow_missing: Keys that may be absent (they keep the model's values);
            e.g. the queue, which official releases do not contain.

    Returns:
        The allowed keys that were missing, so the caller can report them.

    Raises:
        KeyMismatchError: Any other difference between the keys or shapes.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    mis_shaped = [f'{k} (checkpoint {tuple(v.shape)}, model {tuple(expected[k].shape)})'
                  for k, v in state_dict.items() if k in expected and v.shape != expected[k].shape]
    allowed = set(allow_missing)
    kept = [k for k in missing if k in allowed]
    missing = [k for k in missing if k not in allowed]
    problems = []
    if missing:
        problems.append(f'missing keys: {_names(missing)}')
    if unexpected:
        problems.append(f'unexpected keys: {_names(unexpected)}')
    if mis_shaped:
        problems.append(f'shape mismatch: {_names(mis_shaped)}')
    if problems:
        raise KeyMismatchError(f'the checkpoint does not match {type(model).__name__}: '
                               + '; '.join(problems))
    model.load_state_dict({**{k: expected[k] for k in kept}, **state_dict}, strict=True)
    return kept


def load_pretrained(model: nn.Module, source: Union[str, Path], map_location: Any = 'cpu'
                    ) -> List[str]:
    """Load a checkpoint (path or ``zoo://NAME``, either layout) into a MoCo model strictly.

    Only the queue may be absent (official releases do not contain it); it then
    keeps the model's initial values. Returns the keys that kept their values.
    """
    checkpoint = load_checkpoint(source, map_location=map_location)
    state = checkpoint.get('state_dict', checkpoint)
    return load_state_dict_strictly(model, state, allow_missing=QUEUE_KEYS)


def register_zoo_scheme() -> None:
    """Make MMEngine accept ``zoo://NAME``, read ``http(s)://`` safely and convert official
    MoCo releases read from local paths (idempotent)."""
    register_checkpoint_converter(convert_if_official)
    CheckpointLoader.register_scheme(prefixes=ZOO_PREFIX, loader=load_from_zoo, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_url_safely,
                                     force=True)


register_zoo_scheme()
