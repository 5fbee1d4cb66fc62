"""A data sampler that can start an epoch part-way through, for exact resumes inside an epoch."""
from __future__ import annotations

from typing import Iterator, Optional

from mmengine.dataset import DefaultSampler

from moco_plugin.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ResumableSampler(DefaultSampler):
    """MMEngine's :class:`~mmengine.dataset.DefaultSampler`, able to skip the part of an
    epoch a resumed run has already trained on.

    The permutation is the one of ``DefaultSampler`` (``seed + epoch``, padded to a
    multiple of the world size, every ``world_size``-th index for this rank): a fresh run
    samples exactly the same indices in the same order. :meth:`skip` makes the next pass
    over epoch ``epoch`` start after the first ``samples`` indices of this rank, and
    ``len()`` report what is left of that epoch, so the epoch loop ends it after the
    remaining batches. Other epochs are whole.

    Why a sampler and not torchdata's ``StatefulDataLoader``: MMEngine builds a
    ``torch.utils.data.DataLoader`` itself, the position within an epoch is just a count
    of consumed batches (the permutation is a function of seed and epoch), and the state
    that a fast-forward cannot rebuild (the workers' random streams) is not saved by
    ``StatefulDataLoader`` either; ``engine/hooks/data_position_hook.py`` saves it.

    Args:
        dataset, shuffle, seed, round_up: As for ``DefaultSampler``.
    """

    def __init__(self, dataset, shuffle: bool = True, seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        super().__init__(dataset, shuffle=shuffle, seed=seed, round_up=round_up)
        self._pending = None  # (epoch, samples): applied by the next pass over that epoch
        self._active = None  # (epoch, samples) of the pass in progress

    def skip(self, epoch: int, samples: int) -> None:
        """Start the next pass over ``epoch`` after ``samples`` indices of this rank."""
        if not 0 <= samples <= self.num_samples:
            raise ValueError(f'cannot skip {samples} samples of an epoch of {self.num_samples}')
        self._pending = (epoch, samples)

    def _skipped(self) -> int:
        for record in (self._pending, self._active):
            if record is not None and record[0] == self.epoch:
                return record[1]
        return 0

    def __iter__(self) -> Iterator[int]:
        skip = 0
        if self._pending is not None and self._pending[0] == self.epoch:
            skip, self._pending = self._pending[1], None
        self._active = (self.epoch, skip) if skip else None
        return iter(list(super().__iter__())[skip:])

    def __len__(self) -> int:
        return self.num_samples - self._skipped()

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        if self._active is not None and self._active[0] != epoch:
            self._active = None
