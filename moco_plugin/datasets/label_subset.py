"""Class-balanced label budgets and a dataset wrapper that keeps only the labelled images."""
from __future__ import annotations

import copy
from typing import Optional, Sequence, Union

import numpy as np
from torch.utils.data import Dataset

from moco_plugin.datasets.indexed_view import IndexedView
from moco_plugin.datasets.label_files import LabelSet, make_label_set, read_label_file
from moco_plugin.registry import DATASETS


def balanced_label_indices(labels: Sequence[int], per_class: Optional[int] = None,
                           fraction: Optional[float] = None, seed: int = 0) -> np.ndarray:
    """Indices of a class-balanced, seeded label subset, sorted.

    The semi-supervised budgets on CIFAR-10 are ``per_class`` = 1, 4, 25, 100,
    400 (10, 40, 250, 1000, 4000 labels); ``fraction`` (e.g. 0.01, 0.1) takes
    ``round(fraction * n_c)`` images of each class ``c`` (at least one).

    Raises:
        ValueError: Neither or both of ``per_class`` / ``fraction``, a value out
            of range, or a class with fewer images than asked.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if (per_class is None) == (fraction is None):
        raise ValueError('give exactly one of per_class (labels per class) or fraction')
    if per_class is not None and per_class < 1:
        raise ValueError(f'per_class must be >= 1, got {per_class}')
    if fraction is not None and not 0 < fraction <= 1:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == c)
        want = per_class if per_class is not None else max(1, int(round(fraction * len(members))))
        if want > len(members):
            raise ValueError(f'class {c} has {len(members)} images, fewer than the {want} '
                             'labels per class asked; lower the budget')
        chosen.append(rng.choice(members, size=want, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def balanced_label_set(dataset, per_class: Optional[int] = None,
                       fraction: Optional[float] = None, seed: int = 0) -> LabelSet:
    """:func:`balanced_label_indices` over ``dataset``'s labels, as a :class:`LabelSet`."""
    labels = getattr(dataset, 'labels', None)
    labels = (labels[dataset.indices] if labels is not None and hasattr(dataset, 'indices')
              else [dataset.get_label(i) for i in range(len(dataset))])
    indices = balanced_label_indices(labels, per_class, fraction, seed)
    return make_label_set(dataset, indices, np.asarray(labels)[indices],
                          meta=dict(per_class=per_class, fraction=fraction, seed=seed))


def split_label_set(label_set: LabelSet, fraction: float, seed: int = 0):
    """``(training part, held-out part)`` of a label set: a seeded share ``fraction`` of each
    class held out (``round(fraction * n_c)``, at least one where a class has two or more
    images; a class with one labelled image stays in training).

    Raises:
        ValueError: ``fraction`` outside (0, 1), or nothing would be held out.
    """
    if not 0 < fraction < 1:
        raise ValueError(f'the validation fraction must be in (0, 1), got {fraction}')
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(label_set.labels):
        rows = np.flatnonzero(label_set.labels == c)
        want = min(len(rows) - 1, max(1, int(round(fraction * len(rows)))))
        if want > 0:
            held.append(rng.choice(rows, size=want, replace=False))
    held_rows = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=np.int64)
    if not len(held_rows):
        raise ValueError(f'--val-fraction {fraction} holds out nothing: every class has one '
                         'label; label more images or name a test set')
    keep = np.setdiff1d(np.arange(len(label_set)), held_rows)

    def part(rows):
        return LabelSet(label_set.indices[rows], [label_set.paths[i] for i in rows],
                        label_set.labels[rows], label_set.fingerprint, list(label_set.classes),
                        label_set.kind, meta=dict(label_set.meta, val_fraction=fraction,
                                                  val_seed=seed))
    return part(keep), part(held_rows)


@DATASETS.register_module()
class LabelSubsetDataset(IndexedView):
    """Only the labelled images of a dataset, with the labels of a label set.

    Usable from any config::

        train_dataloader = dict(dataset=dict(
            type='LabelSubsetDataset', label_file='labels/cifar10_250.json',
            dataset=dict(type='CIFAR10', data_root='data/cifar10', split='train',
                         pipeline=[...])))

    Args:
        dataset: The full dataset (config dict or instance).
        label_file: A label / pseudo-label file (JSON, or ``path,label`` CSV),
            checked against the dataset's fingerprint.
        per_class: Instead of a file: that many labels per class (balanced, seeded).
        fraction: Instead of a file: that share of each class.
        seed: Seed of the balanced draw.
        extra_label_files: More label files (e.g. pseudo-labels) appended to the first.
        label_set: Instead of a file: a :class:`LabelSet` of this dataset.
    """

    def __init__(self, dataset: Union[dict, Dataset], label_file: Optional[str] = None,
                 per_class: Optional[int] = None, fraction: Optional[float] = None,
                 seed: int = 0, extra_label_files: Sequence[str] = (),
                 label_set: Optional[LabelSet] = None) -> None:
        self.dataset = DATASETS.build(copy.deepcopy(dataset)) if isinstance(dataset, dict) else dataset
        if label_set is not None:  # already read (and checked) by the caller
            self.label_set = label_set
        elif label_file is not None:
            if per_class is not None or fraction is not None:
                raise ValueError('LabelSubsetDataset takes label_file or per_class/fraction, not both')
            self.label_set = read_label_file(label_file, self.dataset)
        else:
            self.label_set = balanced_label_set(self.dataset, per_class, fraction, seed)
        indices, labels = [self.label_set.indices], [self.label_set.labels]
        for extra in extra_label_files:
            more = read_label_file(extra, self.dataset, self.label_set.fingerprint)
            indices.append(more.indices)
            labels.append(more.labels)
        self._set_view(np.concatenate(indices), np.concatenate(labels))
        if len(np.unique(self.indices)) != len(self.indices):
            raise ValueError('the label files name some images twice; pseudo-label only the '
                             'unlabelled images')

    def __getitem__(self, index: int) -> dict:
        item = self.dataset[int(self.indices[index])]
        item['data_samples'] = dict(item['data_samples'])
        item['data_samples']['gt_label'] = item['data_samples']['gt_label'].new_tensor(
            self.get_label(index))
        return item
