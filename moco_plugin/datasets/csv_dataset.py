"""Images named in a CSV/TSV file with their labels: flat folders such as GTSRB or Kaggle sets."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

import numpy as np

from moco_plugin.datasets.base_dataset import FileListDataset
from moco_plugin.registry import DATASETS
from moco_plugin.utils.tables import TableError, read_table


def read_label_table(path: str, path_column: str = 'path', label_column: Optional[str] = 'label',
                     group_column: Optional[str] = None, delimiter: Optional[str] = None):
    """``(paths, label names, groups)`` of a table read by :func:`moco_plugin.utils.tables.read_table`
    (``,`` ``;`` or tab detected, BOM and CRLF accepted, columns by header name).

    ``label_column=None`` reads a table of paths only (labels ``None``: an unlabelled pool).

    Raises:
        ValueError: A named column is missing (the message lists the header and the
            delimiter found), a row has the wrong field count or an empty path or label.
    """
    table = read_table(path, (path_column, label_column, group_column), delimiter)
    paths, labels, groups = [], [], []
    for line, row in table:
        if not row[path_column] or (label_column and not row[label_column]):
            raise TableError(f'{path} line {line}: empty {path_column}'
                             + (f' or {label_column}' if label_column else '')
                             + '; fill it in or delete the row')
        paths.append(row[path_column])
        labels.append(row[label_column] if label_column else None)
        groups.append(row[group_column] if group_column else None)
    return paths, labels, groups


def sorted_labels(names: Sequence[str]) -> List[str]:
    """Distinct label names, numerically sorted when all are integers (``2`` before ``10``)."""
    distinct = set(names)
    if all(n.lstrip('-').isdigit() for n in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


@DATASETS.register_module()
class CsvImageDataset(FileListDataset):
    """Images listed in a ``path,label`` table (CSV, or TSV for ``.tsv`` files).

    Paths are relative to ``image_root`` (default: the table's folder). Labels are names
    (strings or integers); ``classes`` fixes their order so every split of a dataset
    indexes one list (the benchmark passes the training table's classes to the test
    table); a label outside it is an error naming the row's label and the list.

    Args:
        data_root: The CSV/TSV file.
        image_root: Folder the paths are relative to.
        path_column, label_column: Header names of the two columns (``label_column=None``:
            a table of paths only, every label -1, an unlabelled pool).
        group_column: Optional column of group ids (e.g. a physical object's track) for
            group-aware held-out splits: near-duplicates stay on one side.
        classes: The class names, in label order. Default: the table's own, sorted.
        **kwargs: See :class:`BaseImageDataset`.
    """

    def __init__(self, data_root: str, image_root: Optional[str] = None,
                 path_column: str = 'path', label_column: Optional[str] = 'label',
                 group_column: Optional[str] = None, classes: Optional[Sequence[str]] = None,
                 split: Optional[str] = None, **kwargs) -> None:
        if not os.path.isfile(data_root):
            raise FileNotFoundError(f'label table not found: {data_root}; pass the CSV/TSV file')
        self.data_root = data_root
        self.split = split
        self.image_root = image_root or os.path.dirname(os.path.abspath(data_root))
        paths, names, groups = read_label_table(data_root, path_column, label_column, group_column)
        if label_column is None:  # a pool of unlabelled images
            self.classes = list(classes or [])
            names = [None] * len(paths)
        else:
            self.classes = list(classes) if classes is not None else sorted_labels(names)
        index = {name: i for i, name in enumerate(self.classes)}
        index[None] = -1
        unknown = sorted(set(names) - set(index))
        if unknown:
            raise ValueError(f'{data_root}: label(s) {unknown[:5]} are not among the classes '
                             f'{self.classes[:10]}{"..." if len(self.classes) > 10 else ""} of '
                             'the training table; every split must use the training labels')
        self.files = [p if os.path.isabs(p) else os.path.join(self.image_root, p) for p in paths]
        absent = [f for f in self.files if not os.path.isfile(f)]
        if absent:
            raise FileNotFoundError(f'{data_root}: {len(absent)} listed image(s) do not exist, e.g. '
                                    f'{absent[0]}; check the paths or --image-root')
        self.labels = np.array([index[n] for n in names], dtype=np.int64)
        self.groups = groups if group_column else None
        super().__init__(**kwargs)
        self._finish_init()

