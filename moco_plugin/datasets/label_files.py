"""Label files: which images of a dataset carry which label, tied to that dataset's content.

A label file is JSON::

    dict(schema=1, kind='labels', fingerprint=<dataset fingerprint>, num_classes=C,
         classes=[...], items=[dict(path='train/cat/0001.jpg', index=17, label=3), ...],
         meta={...})

Images are named by their path relative to the dataset root (and their index, which is
checked against the path), never by position alone, and the file carries the dataset's
fingerprint so that a file made for another dataset is refused. Pseudo-label files add
``confidence`` per item and the teacher checkpoint's sha256 in ``meta``; selection files
(``kind='selection'``) add ``score``.
"""
from __future__ import annotations

import hashlib
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from moco_plugin.utils.atomic_io import atomic_write_text

SCHEMA = 1
TABLE_SUFFIXES = ('.csv', '.tsv', '.txt')


def image_ids(dataset) -> List[str]:
    """Stable names of a dataset's items (after subsetting): relative paths where there are files.

    Folder datasets give the path relative to ``data_root`` (CSV tables: to ``image_root``),
    from :meth:`item_files`; CIFAR-10's python
    batches have no files, so their items are ``'<split>/<index>'``.
    """
    files = dataset.item_files() if hasattr(dataset, 'item_files') else None
    if files is None:
        indices = getattr(dataset, 'indices', None)
        split = getattr(dataset, 'split', None) or 'data'
        return [f'{split}/{int(i)}' for i in (np.arange(len(dataset)) if indices is None else indices)]
    root = _files_root(dataset)
    return [osp.relpath(path, root).replace(os.sep, '/') for path in files]


def _files_root(dataset) -> str:
    # a CSV dataset's data_root is the table; its paths are relative to image_root
    return getattr(dataset, 'image_root', None) or getattr(dataset, 'data_root', None) or ''


def dataset_fingerprint(dataset) -> str:
    """Cheap, content-dependent identity: sha256 of (class list, sorted ids with file sizes).

    Reads no pixels: file sizes stand for content (a re-encoded or replaced image
    changes its size with near certainty). Without files (CIFAR python batches)
    the labels array stands in.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps(list(getattr(dataset, 'classes', []) or [])).encode())
    ids = image_ids(dataset)
    root = _files_root(dataset)
    has_files = ids and osp.isfile(osp.join(root, ids[0]))
    for name in sorted(ids):
        size = osp.getsize(osp.join(root, name)) if has_files else 0
        digest.update(f'{name}|{size}\n'.encode())
    if not has_files:
        labels = np.asarray([dataset.get_label(i) for i in range(len(dataset))], dtype=np.int64)
        digest.update(labels.tobytes())
    return digest.hexdigest()


@dataclass
class LabelSet:
    """Images (dataset indices + relative paths) and their labels, for one dataset fingerprint."""

    indices: np.ndarray
    paths: List[str]
    labels: np.ndarray
    fingerprint: str
    classes: List[str] = field(default_factory=list)
    kind: str = 'labels'
    confidence: Optional[np.ndarray] = None
    scores: Optional[np.ndarray] = None
    meta: Dict[str, Any] = field(default_factory=dict)
    #: images the labeller rejected (``skip``): no label, and never selected again
    skipped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    skipped_paths: List[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.indices)

    def to_json(self) -> Dict[str, Any]:
        items = []
        for row, (index, path, label) in enumerate(zip(self.indices, self.paths, self.labels)):
            item = dict(path=path, index=int(index), label=int(label))
            if self.confidence is not None:
                item['confidence'] = float(self.confidence[row])
            if self.scores is not None:
                item['score'] = float(self.scores[row])
            items.append(item)
        out = dict(schema=SCHEMA, kind=self.kind, fingerprint=self.fingerprint,
                   num_classes=len(self.classes), classes=list(self.classes), meta=self.meta,
                   items=items)
        if len(self.skipped):
            out['skipped'] = [dict(path=p, index=int(i))
                              for i, p in zip(self.skipped, self.skipped_paths)]
        return out

    def seen(self) -> np.ndarray:
        """Indices a selection must not pick again: the labelled and the skipped images."""
        return np.union1d(self.indices, self.skipped).astype(np.int64)


def make_label_set(dataset, indices: Sequence[int], labels: Optional[Sequence[int]] = None,
                   fingerprint: Optional[str] = None, **kwargs) -> LabelSet:
    """A :class:`LabelSet` of ``dataset`` items ``indices`` (labels default to the dataset's)."""
    indices = np.asarray(indices, dtype=np.int64)
    ids = image_ids(dataset)
    if labels is None:
        labels = [dataset.get_label(int(i)) for i in indices]
    return LabelSet(indices, [ids[int(i)] for i in indices], np.asarray(labels, dtype=np.int64),
                    fingerprint or dataset_fingerprint(dataset),
                    list(getattr(dataset, 'classes', []) or []), **kwargs)


def write_label_file(label_set: LabelSet, path: str) -> None:
    """Write atomically: a reader never sees half a file."""
    atomic_write_text(json.dumps(label_set.to_json(), indent=1) + '\n', path)


def read_label_file(path: str, dataset=None, fingerprint: Optional[str] = None,
                    columns: Sequence[str] = ('path', 'label')) -> LabelSet:
    """Read a label / pseudo-label / selection file, or a labels table (CSV/TSV).

    With ``dataset`` (or its ``fingerprint``) the file must have been made for
    that dataset and every image it names must exist in it. A table is read by
    :func:`moco_plugin.datasets.label_csv.read_label_csv` (``columns``: its path and
    label column names).

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a label file, another dataset's file, unknown images.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'label file not found: {path}; make one with '
                                'tools/make_label_subset.py')
    if path.lower().endswith(TABLE_SUFFIXES):
        if dataset is None:
            raise ValueError(f'{path}: a CSV label file needs the dataset it refers to')
        from moco_plugin.datasets.label_csv import read_label_csv
        return read_label_csv(path, dataset, columns)
    try:
        with open(path) as handle:
            data = json.load(handle)
        items = data['items']
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f'{path} is not a label file ({err}); make one with '
                         'tools/make_label_subset.py') from None
    expected = fingerprint or (dataset_fingerprint(dataset) if dataset is not None else None)
    if expected is not None and data.get('fingerprint') != expected:
        raise ValueError(f'{path} was made for another dataset (fingerprint '
                         f"{str(data.get('fingerprint'))[:12]}, this dataset {expected[:12]}); "
                         'make the label file again for this dataset')
    label_set = LabelSet(
        np.asarray([int(i['index']) for i in items], dtype=np.int64), [i['path'] for i in items],
        np.asarray([int(i['label']) for i in items], dtype=np.int64), data.get('fingerprint', ''),
        list(data.get('classes', [])), data.get('kind', 'labels'),
        np.asarray([i['confidence'] for i in items]) if items and 'confidence' in items[0] else None,
        np.asarray([i['score'] for i in items]) if items and 'score' in items[0] else None,
        dict(data.get('meta', {})))
    skipped = data.get('skipped') or []
    label_set.skipped = np.asarray([int(i['index']) for i in skipped], dtype=np.int64)
    label_set.skipped_paths = [i['path'] for i in skipped]
    if dataset is not None:
        _check_against(label_set, dataset, path)
    return label_set


def _check_against(label_set: LabelSet, dataset, path: str) -> None:
    ids = image_ids(dataset)
    for index, name in zip(np.concatenate([label_set.indices, label_set.skipped]),
                           label_set.paths + label_set.skipped_paths):
        if not 0 <= index < len(ids) or ids[index] != name:
            raise ValueError(f'{path} names image {name!r} (index {index}) which this dataset '
                             'does not have; make the label file again for this dataset')
    classes = list(getattr(dataset, 'classes', []) or [])
    if label_set.kind == 'selection':  # images to label: no labels yet
        return
    if not classes and len(label_set.labels):
        raise ValueError(f'{path} has labels but the dataset has no class list (no class '
                         'folders); name the classes with --classes FILE|a,b,c')
    if classes and len(label_set.labels) and (label_set.labels.max() >= len(classes)
                                              or label_set.labels.min() < 0):
        raise ValueError(f'{path} has labels outside 0..{len(classes) - 1} ({len(classes)} '
                         'classes in the dataset); check that it was made for this dataset')
