"""A dataset that shows some items of another one, with labels of its own."""
from __future__ import annotations

from typing import List, Sequence

import numpy as np
from torch.utils.data import Dataset


class IndexedView(Dataset):
    """Items ``indices`` of ``dataset`` with ``labels`` (one per index) and its class list.

    Subclasses set ``self.dataset`` and call :meth:`_set_view`; ``__getitem__`` returns the
    underlying item (override it to put the view's labels in).

    Example:
        >>> class Three(Dataset):
        ...     classes = ['a', 'b']
        ...     def __getitem__(self, i): return i
        ...     def get_image(self, i): return f'img{i}'
        >>> view = IndexedView(); view.dataset = Three(); view._set_view([2, 0], [1, 0])
        >>> len(view), view[0], view.get_image(1), view.get_label(0), view.classes
        (2, 2, 'img0', 1, ['a', 'b'])
    """

    dataset: Dataset
    classes: List[str]

    def _set_view(self, indices: Sequence[int], labels: Sequence[int]) -> None:
        self.indices = np.asarray(indices, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.classes = list(getattr(self.dataset, 'classes', []) or [])
        self.metainfo = dict(classes=tuple(self.classes))

    def __len__(self) -> int:
        return len(self.indices)

    def get_label(self, index: int) -> int:
        return int(self.labels[index])

    def get_image(self, index: int):
        return self.dataset.get_image(int(self.indices[index]))

    def __getitem__(self, index: int):
        return self.dataset[int(self.indices[index])]
