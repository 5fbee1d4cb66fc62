"""Decoding a dataset's images once into one uint8 array, with the files that fail to decode.

The array is cached as ``<name>.npy``; the images that could not be decoded (skipped under
``on_bad_image='skip'``) are listed next to it in ``<name>.bad.json``, written before the
array, so a cache hit knows the same files as the decode that made it: a skipped file is
reported and left out again, and ``on_bad_image='error'`` still refuses it.
"""
from __future__ import annotations

import json
import os
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from moco_plugin.datasets.image_io import CorruptImageError
from moco_plugin.utils.atomic_io import atomic_save_npy, atomic_write_text, remove_partial_writes

BAD_IMAGE_POLICIES = ('skip', 'error')
# One entry per image that failed: its position among the dataset's items, file and reason.
BadImage = dict


def check_bad_image_policy(on_bad_image: str) -> None:
    if on_bad_image not in BAD_IMAGE_POLICIES:
        raise ValueError(f"on_bad_image must be 'skip' or 'error', got {on_bad_image!r}")


def bad_list_path(array_path: str) -> str:
    return array_path[:-len('.npy')] + '.bad.json'


def _raise_bad(entry: BadImage) -> None:
    raise CorruptImageError(
        f"cannot decode image {entry['path']} ({entry['reason']}); delete or replace the file, "
        "or leave such files out with the dataset's on_bad_image='skip' (tools/train.py "
        '--train-data ... --on-bad-image skip)',
        entry['path'], entry['reason'])


def decode_images(load: Callable[[int], object], sources: Sequence[int],
                  files: Optional[Sequence[str]], on_bad_image: str
                  ) -> Tuple[np.ndarray, List[BadImage]]:
    """``load(source)`` for every source index, stacked; the failures listed (or raised).

    Args:
        load: Returns the (PIL) image of a source index, of one size for all.
        sources: Source indices, in item order.
        files: The file of each item (for the report), or ``None``.
        on_bad_image: ``'error'``: the first undecodable file raises
            :class:`CorruptImageError`; ``'skip'``: it is listed and left out.

    Returns:
        The ``(n_good, H, W, 3)`` array and the bad entries (``position``, ``path``, ``reason``).

    Raises:
        ValueError: Images of different sizes, or every image is bad.
    """
    array: Optional[np.ndarray] = None
    bad: List[BadImage] = []
    row = 0
    for position, src in enumerate(sources):
        try:
            img = np.asarray(load(int(src)))
        except CorruptImageError as err:
            entry = dict(position=position, path=files[position] if files else err.path,
                         reason=err.reason)
            if on_bad_image == 'error':
                _raise_bad(entry)
            bad.append(entry)
            continue
        if array is None:
            array = np.empty((len(sources) - position, *img.shape), dtype=np.uint8)
        elif img.shape != array.shape[1:]:
            raise ValueError(f'in_memory=True needs images of one size; image {src} is '
                             f'{img.shape[:2]} but the first is {array.shape[1:3]}: set the '
                             'dataset\'s in_memory_size=N (e.g. train_dataloader.dataset.'
                             'in_memory_size=256) to resize them when decoding, or '
                             'in_memory=False')
        array[row] = img
        row += 1
    if array is None:
        example = f", e.g. {bad[0]['path']} ({bad[0]['reason']})" if bad else ''
        raise ValueError(f'none of the {len(sources)} images could be decoded{example}; check '
                         'that the files are images')
    return array[:row], bad


def load_cached(path: str, n_items: int) -> Optional[Tuple[np.ndarray, List[BadImage]]]:
    """The cached array and its bad list, or ``None`` when absent, damaged or inconsistent."""
    if not os.path.isfile(path):
        return None
    bad: List[BadImage] = []
    bad_path = bad_list_path(path)
    try:
        if os.path.isfile(bad_path):
            with open(bad_path) as handle:
                bad = list(json.load(handle)['bad'])
        array = np.load(path, mmap_mode='r')
    except (ValueError, OSError, KeyError, TypeError):
        array = None
    if array is None or len(array) != n_items - len(bad):
        os.remove(path)  # a damaged or stale cache is rebuilt, never trusted
        return None
    return array, bad


def save_cached(path: str, array: np.ndarray, bad: List[BadImage]) -> None:
    """Write the bad list (or remove a stale one), then the array: a present array is complete."""
    folder = os.path.dirname(path)
    # leftovers of killed writes; an hour spares another process still writing one
    remove_partial_writes(folder, older_than_s=3600)
    bad_path = bad_list_path(path)
    if bad:
        atomic_write_text(json.dumps(dict(bad=bad), indent=1) + '\n', bad_path)
    elif os.path.isfile(bad_path):
        os.remove(bad_path)
    atomic_save_npy(array, path)


def apply_bad_list(bad: List[BadImage], on_bad_image: str) -> np.ndarray:
    """Positions to drop (sorted); under ``'error'`` the first bad image raises instead."""
    if bad and on_bad_image == 'error':
        _raise_bad(bad[0])
    return np.array(sorted(int(b['position']) for b in bad), dtype=np.int64)


def report_bad_images(bad: List[BadImage], total: int, source: str) -> None:
    """Each skipped file with its reason, then the count, into the current (runner's) log."""
    if not bad:
        return
    import logging

    from mmengine.logging import print_log
    for entry in bad:
        print_log(f"skipped bad image {entry['path']}: {entry['reason']}", logger='current',
                  level=logging.WARNING)
    print_log(f'skipped {len(bad)} bad image(s) of {total} in {source} '
              f'({total - len(bad)} used; on_bad_image=skip)', logger='current',
              level=logging.WARNING)
