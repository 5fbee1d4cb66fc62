"""A user's labels table (``path,label`` CSV/TSV, any delimiter) as a :class:`LabelSet` of a pool.

What a labeller hands back: one row per image, columns found by header name, a label
that is a class name or a class index, empty (not labelled yet: the row is left out), or
``skip`` for an image the labeller rejected
(recorded in the label file, so a selection never picks it again). Paths are relative to
the dataset root or absolute (the tables ``tools/label_studio.py export`` writes). Every
row is checked first; all problems of one kind are reported in one line naming the rows.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

from moco_plugin.datasets.label_files import LabelSet, _files_root, image_ids, make_label_set
from moco_plugin.utils.tables import TableError, read_table

SKIP_VALUES = ('skip',)


def _rows(items: List[Tuple[int, str]], limit: int = 5) -> str:
    shown = ', '.join(f'line {line} ({text})' for line, text in items[:limit])
    return shown + (f' and {len(items) - limit} more' if len(items) > limit else '')


def pool_positions(dataset) -> Tuple[Dict[str, int], Dict[str, int]]:
    """``({relative id: index}, {resolved absolute path: index})`` of a dataset's images."""
    ids = image_ids(dataset)
    root = _files_root(dataset)
    relative = {name: i for i, name in enumerate(ids)}
    files = dataset.item_files() if hasattr(dataset, 'item_files') else None
    absolute = ({osp.realpath(f): i for i, f in enumerate(files)} if files
                else {osp.realpath(osp.join(root, n)): i for n, i in relative.items()})
    return relative, absolute


def class_index(label: str, classes: Sequence[str]):
    """The index of ``label`` (a class name or an index into ``classes``), else ``None``."""
    if label in classes:
        return list(classes).index(label)
    if label.isdigit() and int(label) < len(classes):
        return int(label)
    return None


def read_label_csv(path: str, dataset, columns: Sequence[str] = ('path', 'label')) -> LabelSet:
    """Read a labels table for ``dataset`` (see the module docstring).

    Raises:
        TableError (a ValueError): a missing column, images not in the dataset, labels
            that are no class, the same image twice with different labels; each in one
            line naming the rows and the fix.
    """
    path_column, label_column = columns[0], columns[1]
    table = read_table(path, (path_column, label_column))
    classes = list(getattr(dataset, 'classes', []) or [])
    relative, absolute = pool_positions(dataset)
    unknown_images: List[Tuple[int, str]] = []
    unknown_labels: List[Tuple[int, str]] = []
    empty: List[Tuple[int, str]] = []
    seen: Dict[int, Tuple[int, str, int]] = {}  # index -> (line, label text, label)
    conflicts: List[Tuple[int, str]] = []
    for line, row in table:
        name, label = row[path_column].replace(os.sep, '/'), row[label_column]
        if not name:
            empty.append((line, f'label {label!r}'))
            continue
        if not label:  # not labelled (yet): the row is left out
            continue
        index = absolute.get(osp.realpath(name)) if osp.isabs(name) else relative.get(name)
        if index is None:
            unknown_images.append((line, name))
            continue
        value = -1 if label.lower() in SKIP_VALUES else class_index(label, classes)
        if value is None:
            unknown_labels.append((line, label))
            continue
        if index in seen and seen[index][2] != value:
            first = seen[index]
            conflicts.append((line, f'{name}: {label} here, {first[1]} on line {first[0]}'))
        seen.setdefault(index, (line, label, value))
    if empty:
        raise TableError(f'{path}: empty path on {_rows(empty)}; fill in the image path or '
                         'delete the row')
    if unknown_images:
        root = _files_root(dataset)
        raise TableError(f'{path}: {len(unknown_images)} image(s) not in the pool: '
                         f'{_rows(unknown_images)}; paths are relative to {root} (or absolute)')
    if unknown_labels:
        hint = (f'the classes are {", ".join(classes[:12])}{", ..." if len(classes) > 12 else ""}'
                ' (or their indices), or skip' if classes else
                'the pool has no class list (no class folders): name the classes with '
                '--classes FILE|a,b,c')
        raise TableError(f'{path}: label(s) that are no class on {_rows(unknown_labels)}; {hint}')
    if conflicts:
        raise TableError(f'{path}: the same image with different labels on {_rows(conflicts)}; '
                         'keep one row per image')
    # in the table's row order
    indices = np.asarray([i for i, v in seen.items() if v[2] >= 0], dtype=np.int64)
    labels = [seen[int(i)][2] for i in indices]
    label_set = make_label_set(dataset, indices, labels, meta=dict(source=osp.abspath(path)))
    skipped = [i for i, v in seen.items() if v[2] < 0]
    ids = image_ids(dataset)
    label_set.skipped = np.asarray(skipped, dtype=np.int64)
    label_set.skipped_paths = [ids[i] for i in skipped]
    return label_set


def read_class_list(spec: str) -> List[str]:
    """``--classes FILE|a,b,c``: a text file with one class per line, or a comma list.

    Raises:
        ValueError: Fewer than two classes, empty or repeated names.
    """
    if osp.isfile(spec):
        with open(spec, encoding='utf-8-sig') as handle:
            names = [line.strip() for line in handle if line.strip()]
        source = spec
    else:
        names = [n.strip() for n in spec.split(',')]
        source = f'--classes {spec!r}'
        if len(names) == 1:
            raise ValueError(f'{source} is no file and names one class; pass a file with one '
                             'class per line or a comma list a,b,c')
    if len(names) < 2 or not all(names):
        raise ValueError(f'{source}: {len(names)} class name(s), some empty; name at least two '
                         'classes, one per line or a,b,c')
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f'{source}: class(es) {", ".join(repeated)} named twice; name each once')
    if any(n.lower() in SKIP_VALUES for n in names):
        raise ValueError(f'{source}: "skip" marks rejected images in a labels table and cannot '
                         'be a class; rename that class')
    return names


def merge_labels(current: LabelSet, new: LabelSet, dataset, source: str = 'the new labels'
                 ) -> LabelSet:
    """``current`` with the labels (and skips) of ``new`` added, one row per image.

    An image ``new`` labels as ``current`` does is kept once; one labelled differently
    (or skipped after being labelled) is refused in one line naming the images. An image
    skipped before and labelled now becomes labelled.

    Raises:
        ValueError: Conflicting labels, or sets of different datasets.
    """
    if new.fingerprint != current.fingerprint:
        raise ValueError(f'{source} were made for another dataset than the current labels; '
                         'read both against the same pool')
    have = dict(zip(current.indices.tolist(), current.labels.tolist()))
    ids = image_ids(dataset)
    clash = [f'{ids[i]} ({current.classes[have[i]] if current.classes else have[i]} before, '
             f'{new.classes[v] if new.classes else v} now)'
             for i, v in zip(new.indices.tolist(), new.labels.tolist()) if i in have and have[i] != v]
    clash += [f'{ids[i]} (labelled before, skip now)' for i in new.skipped.tolist() if i in have]
    if clash:
        raise ValueError(f'{source} relabel {len(clash)} image(s) the current labels already '
                         f'have: {", ".join(clash[:5])}{" ..." if len(clash) > 5 else ""}; '
                         'fix the rows (or the current label file) so that each image has one label')
    added = {i: v for i, v in zip(new.indices.tolist(), new.labels.tolist()) if i not in have}
    indices = np.asarray(current.indices.tolist() + sorted(added), dtype=np.int64)
    labels = current.labels.tolist() + [added[i] for i in sorted(added)]
    merged = make_label_set(dataset, indices, labels, current.fingerprint,
                            meta=dict(current.meta, merged=list(current.meta.get('merged', []))
                                      + [new.meta.get('source', source)]))
    skipped = sorted((set(current.skipped.tolist()) | set(new.skipped.tolist())) - set(indices.tolist()))
    merged.skipped = np.asarray(skipped, dtype=np.int64)
    merged.skipped_paths = [ids[i] for i in skipped]
    return merged
