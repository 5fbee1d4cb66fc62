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
    assert set(state) == {'features', 'ptr', 'indices'}
    restored = FeatureQueue(size=4, dim=2)
    restored.load_state_dict(state)
    assert restored.ptr.item() == 2
    torch.testing.assert_close(restored.features, queue.features)
    assert torch.equal(restored.indices, queue.indices)


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


def test_entries_carry_their_image_index_through_stage_and_flush():
    queue = FeatureQueue(size=5, dim=2)
    assert queue.indices.tolist() == [FeatureQueue.NO_IMAGE] * 5
    queue.stage(torch.randn(3, 2), torch.tensor([10, 11, 12]))
    queue.flush()
    queue.stage(torch.randn(3, 2))  # no indices given: written, image unknown
    queue.flush()
    # 6 keys into 5 slots: the 6th wraps onto slot 0
    assert queue.indices.tolist() == [-2, 11, 12, -2, -2]
    with pytest.raises(ValueError, match='3 keys but 2 image indices'):
        queue.stage(torch.randn(3, 2), torch.tensor([1, 2]))


def test_initial_fill_share_falls_to_zero_after_k_over_b_steps():
    size, batch = 12, 4
    for init in ('random', 'empty'):
        queue = FeatureQueue(size=size, dim=3, init=init)
        shares = []
        for step in range(size // batch + 1):
            shares.append(float(queue.initial_fill_share()))
            queue.stage(torch.randn(batch, 3), torch.arange(batch) + step * batch)
            queue.flush()
        assert shares == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0]), init
        assert float(queue.initial_fill_share()) == 0.0


def test_empty_start_is_zeros_and_masks_the_unwritten_slots():
    queue = FeatureQueue(size=4, dim=2, init='empty')
    assert torch.count_nonzero(queue.features) == 0
    assert queue.negative_mask(None, mask_own=False).tolist() == [[True] * 4]
    queue.enqueue(torch.eye(2), torch.tensor([0, 1]))
    assert queue.negative_mask(None, mask_own=False).tolist() == [[False, False, True, True]]
    assert FeatureQueue(size=4, dim=2).negative_mask(torch.tensor([0]), mask_own=False) is None
    with pytest.raises(ValueError, match="'random' or 'empty'"):
        FeatureQueue(size=4, dim=2, init='zeros')


def test_own_image_mask_and_share_against_a_hand_computation():
    queue = FeatureQueue(size=6, dim=2)
    queue.enqueue(torch.randn(6, 2), torch.tensor([5, 1, 5, 2, 9, 3]))
    batch = torch.tensor([5, 4, 3])
    mask = queue.negative_mask(batch, mask_own=True)
    assert mask.tolist() == [[True, False, True, False, False, False],
                             [False] * 6,
                             [False, False, False, False, False, True]]
    assert float(queue.own_image_share(batch)) == pytest.approx(2 / 3)
