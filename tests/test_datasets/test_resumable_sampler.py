"""ResumableSampler: DefaultSampler's order, and an epoch that starts part-way once."""
import pytest
from mmengine.dataset import DefaultSampler

from moco_plugin.datasets import ResumableSampler


def test_fresh_order_is_default_samplers_and_a_skip_applies_to_one_pass_of_its_epoch():
    data = list(range(23))
    reference, sampler = DefaultSampler(data, seed=7), ResumableSampler(data, seed=7)
    for epoch in range(3):
        reference.set_epoch(epoch)
        sampler.set_epoch(epoch)
        assert list(sampler) == list(reference) and len(sampler) == len(reference) == 23
    full = list(sampler)  # epoch 2
    sampler.skip(2, 8)
    sampler.set_epoch(2)  # DistSamplerSeedHook calls this at the start of the resumed epoch
    assert len(sampler) == 15
    assert list(sampler) == full[8:]
    assert len(sampler) == 15  # still the resumed epoch: the loop's end-of-epoch checks agree
    assert list(sampler) == full and len(sampler) == 23  # a later pass is whole again
    sampler.skip(3, 4)
    assert list(sampler) == full  # the skip waits for its epoch
    sampler.set_epoch(3)
    reference.set_epoch(3)
    assert list(sampler) == list(reference)[4:]
    sampler.set_epoch(4)
    assert len(sampler) == 23
    with pytest.raises(ValueError, match='cannot skip 24 samples of an epoch of 23'):
        sampler.skip(4, 24)
