"""One side of a deterministic, class-stratified split of a labelled dataset (k-NN bank / queries)."""
from __future__ import annotations

import copy
from typing import Optional, Union

import numpy as np
from torch.utils.data import Dataset

from moco_plugin.datasets.indexed_view import IndexedView
from moco_plugin.registry import DATASETS

PARTS = ('bank', 'query')


def stratified_parts(labels: np.ndarray, query_fraction: float, seed: int = 0):
    """Sorted ``(bank, query)`` indices: ``round(query_fraction * n_c)`` of each class ``c``
    are queries (at least one, and one at least stays in the bank when ``n_c >= 2``)."""
    if not 0.0 < query_fraction < 1.0:
        raise ValueError(f'query_fraction must be in (0, 1), got {query_fraction}')
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    query = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        count = max(1, int(round(query_fraction * len(members))))
        count = min(count, max(len(members) - 1, 1))
        query.append(rng.choice(members, size=count, replace=False))
    query_idx = np.sort(np.concatenate(query)) if query else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), query_idx), query_idx


def balanced_take(indices: np.ndarray, labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """``size`` of ``indices``, drawn round-robin over the classes with ``seed``, sorted."""
    if size >= len(indices):
        return indices
    order = np.random.default_rng(seed).permutation(indices)
    ranks = np.zeros(len(order), dtype=np.int64)
    for cls in np.unique(labels[order]):
        mask = labels[order] == cls
        ranks[mask] = np.arange(mask.sum())
    return np.sort(order[np.lexsort((labels[order], ranks))][:size])


@DATASETS.register_module()
class HeldOutPartDataset(IndexedView):
    """The ``'bank'`` or ``'query'`` part of a labelled dataset split by class, seeded.

    The two parts of one ``(dataset, query_fraction, seed)`` never share an image, and the
    split depends only on the labels, so it is the same in every run. Used by the k-NN
    monitor on a user's labelled folder or CSV (``tools/train.py --monitor-data``).

    Args:
        dataset: A labelled dataset (config or instance); every image needs a label.
        part: ``'bank'`` or ``'query'``.
        query_fraction: Share of each class that goes to the queries.
        seed: Seed of the split.
        max_size: Keep at most this many images of the part (class-balanced, seeded).
    """

    def __init__(self, dataset: Union[dict, Dataset], part: str, query_fraction: float = 0.2,
                 seed: int = 0, max_size: Optional[int] = None) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be 'bank' or 'query', got {part!r}")
        self.dataset = DATASETS.build(copy.deepcopy(dataset)) if isinstance(dataset, dict) else dataset
        labels = np.array([self.dataset.get_label(i) for i in range(len(self.dataset))],
                          dtype=np.int64)
        unlabelled = int((labels < 0).sum())
        if unlabelled:
            raise ValueError(f'{getattr(self.dataset, "data_root", "the dataset")}: {unlabelled} '
                             'image(s) have no label (images directly in the folder); the k-NN '
                             'monitor needs one folder per class, or a CSV with path,label columns')
        if len(np.unique(labels)) < 2:
            raise ValueError(f'{getattr(self.dataset, "data_root", "the dataset")}: the k-NN '
                             'monitor needs at least 2 classes')
        bank, query = stratified_parts(labels, query_fraction, seed)
        chosen = bank if part == 'bank' else query
        if max_size is not None:
            chosen = balanced_take(chosen, labels, max_size, seed)
        self.part = part
        self._set_view(chosen, labels[chosen])
