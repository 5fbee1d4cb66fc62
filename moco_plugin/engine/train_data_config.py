"""Point a pretraining config at a user's own images (``tools/train.py --train-data``).

The packaged configs read CIFAR-10 (dataset type ``CIFAR10``, splits ``train``/``test``,
32 px views, a 20,000-image subset in the main job, a k-NN monitor on CIFAR's splits).
:func:`use_train_data` replaces the training dataset by :class:`ImageFilesDataset` on the
user's folder or CSV, sets every image size of the config (in-memory decode, batched or
per-image augmentation, k-NN monitor) to one size, drops the CIFAR-only dataset settings,
and either points the k-NN monitor at a labelled set the user names or removes it.
"""
from __future__ import annotations

import copy
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from moco_plugin.datasets.image_files import (find_column, is_table, list_image_files,
                                              read_table)
from moco_plugin.datasets.image_io import class_folders
from moco_plugin.utils.config_files import training_image_size

MONITOR = 'KNNMonitorHook'
# Dataset settings that carry over to the user's images; the rest (split, subset_size,
# classes, label_kind...) describe the config's own dataset.
KEPT_KEYS = ('type', 'data_root', 'pipeline', 'in_memory', 'in_memory_size', 'on_bad_image',
             'subset_seed')
LABEL_COLUMNS = ('label', 'class', 'category', 'target')
SPLIT_NAMES = ('train', 'val', 'test')
QUERY_FRACTION = 0.2
# Models that train on labels: unlabelled images cannot train them.
LABELLED_MODELS = ('Supervised',)


def _type_name(entry: Mapping[str, Any]) -> str:
    kind = entry.get('type')
    return (kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))).split('.')[-1]


def _set_sizes(node: Any, size: int) -> None:
    """Set ``size`` of every transform in a pipeline (nested ``transforms`` lists too)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            _set_sizes(item, size)
    elif isinstance(node, dict):
        if node.get('size') is not None:
            node['size'] = size
        _set_sizes(node.get('transforms'), size)


def _innermost_holder(cfg) -> Mapping[str, Any]:
    """The dict whose ``dataset`` key is the innermost training dataset (wrappers unwrapped)."""
    holder = cfg.get('train_dataloader')
    if not holder or not holder.get('dataset'):
        raise ValueError('--train-data: the config has no train_dataloader.dataset to replace')
    while holder['dataset'].get('dataset') is not None:
        holder = holder['dataset']
    return holder


def _image_files(spec: str, option: str) -> List[str]:
    try:
        return list_image_files(spec)
    except (FileNotFoundError, ValueError) as err:  # the message names the path
        raise type(err)(f'{option}: {err}') from None


def monitor_dataset_cfgs(spec: str, size: int, on_bad_image: str,
                         bank_size: Optional[int] = None, query_size: Optional[int] = None
                         ) -> Tuple[Dict[str, Any], Dict[str, Any], str]:
    """(bank, query) dataset configs of a labelled folder or CSV/TSV, and how they were made.

    A folder of class folders, or a ``path,label`` table, is split per class into bank and
    queries (:class:`HeldOutPartDataset`, 20% queries, seed 0); a folder whose sub-folders
    are split folders (``train`` and ``val`` or ``test``, each of class folders) uses them.
    """
    common = dict(pipeline=[dict(type='ResizeCenterCrop', size=size)], in_memory=True,
                  in_memory_size=size, on_bad_image=on_bad_image)
    if os.path.isdir(spec):
        subs = class_folders(spec)
        query_split = next((s for s in ('val', 'test') if s in subs), None)
        if subs and set(subs) <= set(SPLIT_NAMES) and 'train' in subs and query_split:
            bank = dict(type='ImageFolderDataset', data_root=spec, split='train',
                        subset_size=bank_size, **common)
            query = dict(type='ImageFolderDataset', data_root=spec, split=query_split,
                         subset_size=query_size, **common)
            return bank, query, f'its train/ and {query_split}/ folders'
        if not subs:
            raise ValueError(f'--monitor-data {spec}: no class folders; the k-NN monitor needs '
                             'labels: one sub-folder per class, or a CSV with path,label columns')
        source = dict(type='ImageFolderDataset', data_root=spec, split=None, **common)
    elif is_table(spec) and os.path.isfile(spec):
        header, _ = read_table(spec)
        path_col = find_column(header, ('path', 'file', 'filename', 'image'))
        label_col = find_column(header, LABEL_COLUMNS)
        if path_col is None or label_col is None:
            raise ValueError(f'--monitor-data {spec}: needs a path and a label column (header: '
                             f'{", ".join(header) or "empty"}); name them path,label')
        source = dict(type='CsvImageDataset', data_root=spec, path_column=path_col,
                      label_column=label_col, **common)
    else:
        raise FileNotFoundError(f'--monitor-data {spec}: no such folder or CSV/TSV file; pass a '
                                'folder of class folders or a CSV with path,label columns')
    parts = [dict(type='HeldOutPartDataset', dataset=source, part=part,
                  query_fraction=QUERY_FRACTION, seed=0, max_size=cap)
             for part, cap in (('bank', bank_size), ('query', query_size))]
    return parts[0], parts[1], f'{100 - int(QUERY_FRACTION * 100)}/{int(QUERY_FRACTION * 100)} ' \
                               'split of each class (seed 0)'


def _set_monitor(cfg, size: int, on_bad_image: str, monitor_data: Optional[str],
                 explicit_off: bool) -> str:
    hooks = list(cfg.get('custom_hooks') or [])
    monitors = [h for h in hooks if _type_name(h) == MONITOR]
    if monitor_data is None:
        cfg.custom_hooks = [h for h in hooks if _type_name(h) != MONITOR]
        why = '--no-monitor' if explicit_off else '--train-data without --monitor-data'
        return (f'k-NN monitor off ({why}); pass --monitor-data FOLDER|CSV (labelled) to '
                'track k-NN accuracy during pretraining')
    if not monitors:
        monitors = [dict(type=MONITOR, interval=1)]
        hooks.append(monitors[0])
    for hook in monitors:
        bank, query, how = monitor_dataset_cfgs(monitor_data, size, on_bad_image,
                                                hook.get('bank_size', 5000),
                                                hook.get('query_size', 1000))
        hook['bank_dataset'], hook['query_dataset'] = bank, query
        if hook.get('image_size') is not None:
            hook['image_size'] = size
    cfg.custom_hooks = hooks
    return f'k-NN monitor on {monitor_data} at {size} px: bank and queries from {how}'


def use_train_data(cfg, train_data: str, image_size: Optional[int] = None,
                   on_bad_image: str = 'skip', monitor_data: Optional[str] = None,
                   no_monitor: bool = False,
                   cfg_options: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Rewrite ``cfg`` in place to pretrain on ``train_data``; returns one note per change.

    Args:
        cfg: The loaded config (``--cfg-options`` already merged).
        train_data: A folder (every image under it) or a CSV/TSV with a path column.
        image_size: Side the images are decoded and trained at (default: the config's
            training size).
        on_bad_image: ``'skip'`` or ``'error'`` (see :class:`BaseImageDataset`).
        monitor_data: A labelled folder or CSV/TSV for the k-NN monitor; ``None`` removes it.
        no_monitor: The monitor was switched off explicitly (only changes the note).
        cfg_options: The user's ``--cfg-options``: their ``train_dataloader.dataset.*``
            keys are applied again on the new dataset (they win over these settings).

    Raises:
        FileNotFoundError, ValueError: ``train_data`` or ``monitor_data`` is unusable.
    """
    if image_size is not None and image_size <= 0:
        raise ValueError(f'--image-size must be a positive number of pixels, got {image_size}')
    model_type = _type_name(cfg.get('model') or {})
    if model_type in LABELLED_MODELS:
        raise ValueError(f'--train-data images have no labels, but the config trains a '
                         f'{model_type} model on labels; pass a self-supervised config '
                         '(moco-train --list-configs)')
    files = _image_files(train_data, '--train-data')
    size = image_size or training_image_size(cfg)
    if not size:
        raise ValueError('--train-data: the config names no training image size; pass '
                         '--image-size N')
    holder = _innermost_holder(cfg)
    old = dict(holder['dataset'])
    user_keys = {k.split('.', 2)[2].split('.')[0] for k in (cfg_options or {})
                 if k.startswith('train_dataloader.dataset.') and k.count('.') >= 2}
    dropped = {k: v for k, v in old.items()
               if k not in KEPT_KEYS and v is not None and k not in user_keys}
    pipeline = copy.deepcopy(old.get('pipeline') or [])
    _set_sizes(pipeline, size)
    holder['dataset'] = dict(type='ImageFilesDataset', data_root=train_data, pipeline=pipeline,
                             in_memory=True, in_memory_size=size, on_bad_image=on_bad_image,
                             **({'subset_seed': old['subset_seed']} if 'subset_seed' in old else {}))
    for key, value in (('data_root', train_data), ('dataset_type', 'ImageFilesDataset')):
        if key in cfg:  # the configs' top-level variables, so the dumped config says it too
            cfg[key] = value
    batch_augment = ((cfg.get('model') or {}).get('data_preprocessor') or {}).get('batch_augment')
    if batch_augment and batch_augment.get('size') is not None:
        batch_augment['size'] = size
    if cfg_options:
        cfg.merge_from_dict({k: v for k, v in cfg_options.items()
                             if k.startswith('train_dataloader.dataset.')})
    origin = '--image-size' if image_size else "the config's training size"
    notes = [f'train data: {len(files)} images in {train_data}, decoded once at {size}x{size} '
             f'px ({origin}); bad images: {on_bad_image}']
    if dropped:
        notes.append(f"train data: the config's {_type_name(old)} settings "
                     f'{", ".join(f"{k}={v!r}" for k, v in dropped.items())} do not apply to '
                     'it and are dropped (set them with --cfg-options train_dataloader.dataset.KEY=...)')
    if (cfg.get('model') or {}).get('bank_size') is not None:
        notes.append(_fit_memory_bank(cfg))
    notes.append(_set_monitor(cfg, size, on_bad_image, monitor_data, no_monitor))
    return notes


def _fit_memory_bank(cfg) -> str:
    """A memory bank holds one entry per training image: size it to the user's images
    (after skipping bad ones, so the images are decoded, and cached, here)."""
    from moco_plugin.registry import DATASETS
    count = len(DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset)))
    cfg.model['bank_size'] = count
    return f'memory bank: model.bank_size={count} (one entry per training image)'
