"""Images named in a CSV/TSV file with their labels: flat folders such as GTSRB or Kaggle sets."""
from __future__ import annotations

import csv
import os
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

from moco_plugin.datasets.base_dataset import BaseImageDataset
from moco_plugin.datasets.image_files import detect_delimiter
from moco_plugin.datasets.image_io import load_rgb
from moco_plugin.registry import DATASETS


def read_label_table(path: str, path_column: str = 'path', label_column: str = 'label',
                     group_column: Optional[str] = None, delimiter: Optional[str] = None):
    """``(paths, label names, groups)`` of a CSV or TSV (tab for a ``.tsv`` name, else the
    header's delimiter: ``,``, ``;`` or tab; UTF-8 with or without BOM, LF or CRLF).

    Raises:
        ValueError: A named column is missing (the message lists the header), or a row
            has an empty path or label.
    """
    with open(path, newline='', encoding='utf-8-sig') as handle:
        delimiter = delimiter or detect_delimiter(handle.readline(), path)
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        header = reader.fieldnames or []
        wanted = [c for c in (path_column, label_column, group_column) if c]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise ValueError(f'{path}: no column {", ".join(missing)} (header: {", ".join(header)}); '
                             'name the columns with --csv-columns PATH,LABEL[,GROUP]')
        paths, labels, groups = [], [], []
        for line, row in enumerate(reader, start=2):
            if not row[path_column] or not row[label_column]:
                raise ValueError(f'{path}, line {line}: empty {path_column} or {label_column}')
            paths.append(row[path_column])
            labels.append(row[label_column])
            groups.append(row[group_column] if group_column else None)
    if not paths:
        raise ValueError(f'{path}: no rows below the header')
    return paths, labels, groups


def sorted_labels(names: Sequence[str]) -> List[str]:
    """Distinct label names, numerically sorted when all are integers (``2`` before ``10``)."""
    distinct = set(names)
    if all(n.lstrip('-').isdigit() for n in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


@DATASETS.register_module()
class CsvImageDataset(BaseImageDataset):
    """Images listed in a ``path,label`` table (CSV, or TSV for ``.tsv`` files).

    Paths are relative to ``image_root`` (default: the table's folder). Labels are names
    (strings or integers); ``classes`` fixes their order so every split of a dataset
    indexes one list (the benchmark passes the training table's classes to the test
    table); a label outside it is an error naming the row's label and the list.

    Args:
        data_root: The CSV/TSV file.
        image_root: Folder the paths are relative to.
        path_column, label_column: Header names of the two columns.
        group_column: Optional column of group ids (e.g. a physical object's track) for
            group-aware held-out splits: near-duplicates stay on one side.
        classes: The class names, in label order. Default: the table's own, sorted.
        **kwargs: See :class:`BaseImageDataset`.
    """

    def __init__(self, data_root: str, image_root: Optional[str] = None,
                 path_column: str = 'path', label_column: str = 'label',
                 group_column: Optional[str] = None, classes: Optional[Sequence[str]] = None,
                 split: Optional[str] = None, **kwargs) -> None:
        if not os.path.isfile(data_root):
            raise FileNotFoundError(f'label table not found: {data_root}; pass the CSV/TSV file')
        self.data_root = data_root
        self.split = split
        self.image_root = image_root or os.path.dirname(os.path.abspath(data_root))
        paths, names, groups = read_label_table(data_root, path_column, label_column, group_column)
        self.classes = list(classes) if classes is not None else sorted_labels(names)
        index = {name: i for i, name in enumerate(self.classes)}
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

    def _num_source_items(self) -> int:
        return len(self.files)

    def _load_source(self, index: int) -> Image.Image:
        return load_rgb(self.files[index])

    def item_files(self) -> List[str]:
        return [self.files[int(i)] for i in self.indices]

    def _cache_key(self) -> str:
        return f'{os.path.abspath(self.data_root)}|{len(self.files)}'
