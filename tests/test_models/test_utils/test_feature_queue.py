import pytest
import torch
import torch.nn.functional as F

from moco_plugin.models.utils import FeatureQueue


def test_initial_queue_is_normalised_and_pointer_zero():
    queue = FeatureQueue(size=8, dim=4)
    assert queue.features.shape == (8, 4)
    torch.testing.assert_close(queue.features.norm(dim=1), torch.ones(8))
    assert queue.ptr.item() == 0


def test_enqueue_advances_pointer_and_overwrites_oldest():
    queue = FeatureQueue(size=6, dim=2)
    first = torch.arange(8, dtype=torch.float32).view(4, 2)
    queue.enqueue(first)
    assert queue.ptr.item() == 4
    torch.testing.assert_close(queue.features[:4], first)
    second = -torch.arange(1, 7, dtype=torch.float32).view(3, 2)
    queue.enqueue(second)  # writes slots 4, 5 then wraps to slot 0
    assert queue.ptr.item() == 1
    torch.testing.assert_close(queue.features[4:6], second[:2])
    torch.testing.assert_close(queue.features[0], second[2])
    torch.testing.assert_close(queue.features[1:4], first[1:4])


def test_enqueue_more_than_size_keeps_newest():
    queue = FeatureQueue(size=3, dim=1)
    queue.enqueue(torch.arange(5, dtype=torch.float32).view(5, 1))
    # only the newest 3 keys (2, 3, 4) survive, written from the pointer on
    assert sorted(queue.features.flatten().tolist()) == [2.0, 3.0, 4.0]
    assert queue.ptr.item() == 0


def test_stage_then_flush_enqueues_in_order_and_clears():
    queue = FeatureQueue(size=4, dim=2, keys_per_sample=2)  # a symmetric loss stages twice
    a, b = F.normalize(torch.randn(1, 2)), F.normalize(torch.randn(1, 2))
    queue.stage(a)
    queue.stage(b)
    assert queue.flush() == 2
    torch.testing.assert_close(queue.features[:2], torch.cat([a, b]))
    assert queue.flush() == 0  # nothing staged any more
    assert queue.ptr.item() == 2


def test_staged_keys_are_detached():
    queue = FeatureQueue(size=4, dim=2)
    keys = torch.randn(2, 2, requires_grad=True)
    queue.stage(keys * 2)
    queue.flush()
    assert not queue.features.requires_grad


def test_queue_state_is_in_state_dict():
    queue = FeatureQueue(size=4, dim=2)
    queue.enqueue(torch.ones(2, 2))
    state = queue.state_dict()
    assert set(state) == {'features', 'ptr'}
    restored = FeatureQueue(size=4, dim=2)
    restored.load_state_dict(state)
    assert restored.ptr.item() == 2
    torch.testing.assert_close(restored.features, queue.features)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match='size > 0'):
        FeatureQueue(size=0, dim=2)
    with pytest.raises(ValueError, match=r'shape \(N, 3\)'):
        FeatureQueue(size=4, dim=3).enqueue(torch.ones(2, 2))


def test_initial_contents_do_not_depend_on_global_rng():
    torch.manual_seed(1)
    a = FeatureQueue(size=4, dim=3)
    torch.manual_seed(2)
    b = FeatureQueue(size=4, dim=3)
    torch.testing.assert_close(a.features, b.features)


def test_keys_of_an_unflushed_step_cannot_pile_up():
    # Without QueueHook nothing flushes: the second step's stage must fail, not grow a list.
    queue = FeatureQueue(size=4, dim=2)
    queue.stage(torch.randn(2, 2))
    with pytest.raises(RuntimeError, match="never enqueued; add dict\\(type='QueueHook'\\)"):
        queue.stage(torch.randn(2, 2))
    assert len(queue._staged) == 1
    queue.flush()
    queue.stage(torch.randn(2, 2))  # after a flush the next step stages again
