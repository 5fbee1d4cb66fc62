"""A user's own images for pretraining: every image under a folder, or listed in a CSV/TSV.

Labels are not needed to pretrain, so the layout does not matter: a flat folder, class
folders, folders of folders, images next to sub-folders all count, at any depth. A table
names the files in a path column (paths relative to the table's folder).
"""
from __future__ import annotations

import os
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from moco_plugin.datasets.base_dataset import FileListDataset
from moco_plugin.datasets.image_io import IMG_EXTENSIONS, has_image_extension
from moco_plugin.registry import DATASETS
from moco_plugin.utils.tables import detect_delimiter  # noqa: F401  (one reader for all)
from moco_plugin.utils.tables import read_table as read_tables

TABLE_EXTENSIONS = ('.csv', '.tsv')
# Header names accepted for the path column (any case), first match wins.
PATH_COLUMNS = ('path', 'filepath', 'file_path', 'file', 'filename', 'file_name', 'image',
                'image_path', 'img', 'img_path')


def is_table(path: str) -> bool:
    return path.lower().endswith(TABLE_EXTENSIONS)


def scan_images(root: str, extensions: Iterable[str] = IMG_EXTENSIONS) -> List[str]:
    """Every image file under ``root`` at any depth (hidden files and folders skipped), sorted.

    Raises:
        FileNotFoundError: ``root`` is not a folder, or holds no image.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f'image folder not found: {root}')
    extensions = tuple(extensions)
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        found += [os.path.join(folder, f) for f in files
                  if not f.startswith('.') and has_image_extension(f, extensions)]
    if not found:
        raise FileNotFoundError(f'no images ({", ".join(extensions)}) in {root} or its '
                                'sub-folders; put the images there or name another folder')
    return sorted(found)


def read_table(path: str) -> Tuple[List[str], List[dict]]:
    """``(header, rows)`` of a CSV/TSV, read by the project's one table reader
    (:func:`moco_plugin.utils.tables.read_table`: BOM, CRLF, ``,``/``;``/tab detected)."""
    table = read_tables(path, allow_empty=True)
    return table.header, [row for _, row in table.rows]


def find_column(header: Sequence[str], names: Sequence[str]) -> Optional[str]:
    """The header name matching one of ``names`` (any case), else ``None``."""
    lower = {h.lower(): h for h in header}
    return next((lower[n] for n in names if n in lower), None)


def read_image_list(path: str) -> List[str]:
    """The image paths a table lists (relative ones resolved against the table's folder).

    Raises:
        FileNotFoundError: No such table, or a listed file is missing.
        ValueError: No path column, or no rows.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image list not found: {path}')
    header, rows = read_table(path)
    column = find_column(header, PATH_COLUMNS)
    if column is None:
        raise ValueError(f'{path}: no path column in the header ({", ".join(header) or "empty"}); '
                         f'the first line must name the column of image paths: '
                         f'{", ".join(PATH_COLUMNS[:5])}, ...')
    folder = os.path.dirname(os.path.abspath(path))
    files = [os.path.join(folder, row[column].strip()) for row in rows
             if (row.get(column) or '').strip()]
    if not files:
        raise ValueError(f'{path}: no image paths below the header')
    absent = [f for f in files if not os.path.isfile(f)]
    if absent:
        raise FileNotFoundError(f'{path}: {len(absent)} listed image(s) do not exist, e.g. '
                                f'{absent[0]} (relative paths start at the table\'s folder)')
    return files


def list_image_files(source: str) -> List[str]:
    """The images of a folder (any depth) or of a CSV/TSV list (see :func:`read_image_list`)."""
    if os.path.isdir(source):
        return scan_images(source)
    if is_table(source):
        return read_image_list(source)
    if os.path.exists(source):
        raise ValueError(f'{source} is neither a folder nor a CSV/TSV list of image paths '
                         f'({", ".join(TABLE_EXTENSIONS)})')
    raise FileNotFoundError(f'{source}: no such folder or CSV/TSV file')


@DATASETS.register_module()
class ImageFilesDataset(FileListDataset):
    """Unlabelled images for pretraining: a folder (any layout) or a CSV/TSV of paths.

    Every image is decoded once, before training, into the in-memory uint8 array (cached
    by content): mixed sizes are brought to ``in_memory_size`` (shorter side scaled, centre
    cropped), mixed modes (grayscale, palette, CMYK, 16-bit) to 8-bit RGB. Files that
    cannot be decoded stop the run in one line (``on_bad_image='error'``) or are skipped,
    listed and counted in the log (``'skip'``). Labels are -1.

    Args:
        data_root: A folder (every image under it counts) or a ``.csv``/``.tsv`` table with
            a path column (``path``, ``file``, ``filename``, ``image``...; ``,``, ``;`` or tab).
        in_memory_size: Side of the decoded images (needed unless all share one size).
        on_bad_image: ``'error'`` or ``'skip'``.
        **kwargs: See :class:`BaseImageDataset` (``subset_size`` draws a random subset).
    """

    classes: List[str] = []

    def __init__(self, data_root: str, in_memory: bool = True, **kwargs) -> None:
        if not in_memory:
            raise ValueError('ImageFilesDataset decodes every image before training '
                             '(in_memory=True), so that a bad file is found before the first step')
        self.data_root = data_root
        self.split = None
        self.files = list_image_files(data_root)
        self.labels = np.full(len(self.files), -1, dtype=np.int64)
        super().__init__(in_memory=True, **kwargs)
        self._finish_init()

