"""Reproducibility, checkpointed stream position, identity settings and preprocessor integration."""
import copy
import io

import pytest
import torch

from moco_plugin.models.data_preprocessors import BatchMoCoAugment, SelfSupDataPreprocessor
from moco_plugin.utils.safe_load import register_safe_globals


def uint8_batch(n: int = 8, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), generator=torch.Generator().manual_seed(seed),
                         dtype=torch.uint8)


def test_same_seed_same_views_on_a_rerun():
    images = uint8_batch().float()
    first = BatchMoCoAugment(seed=7)
    second = BatchMoCoAugment(seed=7)
    for _ in range(3):  # the whole stream, not only the first call
        assert torch.equal(first(images), second(images))


def test_seed_drawn_from_the_global_rng_is_reproducible():
    images = uint8_batch().float()
    torch.manual_seed(123)
    a = BatchMoCoAugment()(images)
    torch.manual_seed(123)
    b = BatchMoCoAugment()(images)
    torch.manual_seed(124)
    c = BatchMoCoAugment()(images)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_consecutive_calls_and_different_seeds_differ():
    images = uint8_batch().float()
    aug = BatchMoCoAugment(seed=0)
    assert not torch.equal(aug(images), aug(images))
    assert not torch.equal(BatchMoCoAugment(seed=0)(images), BatchMoCoAugment(seed=1)(images))


def test_stream_position_is_saved_and_restored_with_the_state_dict():
    """A checkpoint taken after k calls resumes with call k + 1's views (RNG-hook independent)."""
    images = uint8_batch().float()
    torch.manual_seed(0)
    running = BatchMoCoAugment()
    for _ in range(3):
        running(images)
    buffer = io.BytesIO()
    torch.save(running.state_dict(), buffer)
    expected = running(images)

    register_safe_globals()
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)  # what the project's safe loader does
    assert set(state) == {'_extra_state'}
    torch.manual_seed(999)  # a different global RNG state must not matter
    resumed = BatchMoCoAugment()
    resumed.load_state_dict(state)
    assert torch.equal(resumed(images), expected)


def test_identity_settings_return_the_input_exactly():
    images = uint8_batch().float()
    aug = BatchMoCoAugment(scale=(1.0, 1.0), flip_prob=0, jitter_prob=0, grayscale_prob=0, blur_prob=0)
    assert torch.equal(aug(images), images)


def test_jitter_with_unit_factors_is_exact_identity():
    images = uint8_batch().float()
    aug = BatchMoCoAugment(scale=(1.0, 1.0), flip_prob=0, jitter_prob=1.0, brightness=0, contrast=0,
                           saturation=0, hue=0, grayscale_prob=0, blur_prob=0)
    torch.testing.assert_close(aug(images), images, atol=1e-3, rtol=0)


def test_always_flip_and_always_gray():
    images = uint8_batch().float()
    flip = BatchMoCoAugment(scale=(1.0, 1.0), flip_prob=1, jitter_prob=0, grayscale_prob=0)
    assert torch.equal(flip(images), images.flip(-1))
    gray = BatchMoCoAugment(scale=(1.0, 1.0), flip_prob=0, jitter_prob=0, grayscale_prob=1)(images)
    assert torch.equal(gray[:, 0], gray[:, 1]) and torch.equal(gray[:, 1], gray[:, 2])


def test_output_size_and_range():
    images = uint8_batch(4, size=48).float()
    out = BatchMoCoAugment(size=24, blur_prob=1.0, seed=0)(images)
    assert out.shape == (4, 3, 24, 24) and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 255


def test_preprocessor_augments_views_independently_in_training_only():
    pre = SelfSupDataPreprocessor(batch_augment=dict(type='BatchMoCoAugment', seed=0))
    view = uint8_batch(4)
    data = dict(inputs=[view, view], data_samples=dict(idx=torch.arange(4)))
    train = pre(data, training=True)['inputs']
    assert train[0].shape == (4, 3, 32, 32) and not torch.equal(train[0], train[1])
    test = pre(data, training=False)['inputs']
    assert torch.equal(test[0], test[1])
    expected = (view.float() - pre.mean) / pre.std
    torch.testing.assert_close(test[0], expected)
    assert 'batch_augment._extra_state' in pre.state_dict()


def test_compile_failure_falls_back_to_eager(monkeypatch):
    def broken_compile(*args, **kwargs):
        raise RuntimeError('no C++ compiler')
    monkeypatch.setattr(torch, 'compile', broken_compile)
    images = uint8_batch().float()
    aug = BatchMoCoAugment(seed=3, compile=True)
    with pytest.warns(UserWarning, match='torch.compile failed'):
        out = aug(images)
    assert not aug.compile
    assert torch.equal(out, BatchMoCoAugment(seed=3)(images))


def test_cpu_augmentation_runs_chunks_single_threaded_and_restores_the_setting():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen = []
        aug = BatchMoCoAugment(seed=0)
        original = aug.augment
        aug.augment = lambda images, params: seen.append(
            (len(images), torch.get_num_threads())) or original(images, params)
        aug(uint8_batch(64).float())
        assert sorted(seen) == [(32, 1), (32, 1)] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


def test_chunked_cpu_augmentation_equals_one_chunk():
    images = uint8_batch(96).float()
    one = BatchMoCoAugment(seed=4, cpu_threads=1)(images)
    three = BatchMoCoAugment(seed=4, cpu_threads=3)(images)
    assert torch.equal(one, three)


def test_deepcopy_keeps_the_stream_and_drops_caches():
    images = uint8_batch().float()
    aug = BatchMoCoAugment(seed=2)
    aug(images)
    twin = copy.deepcopy(aug)
    assert twin.calls == 1 and torch.equal(twin(images), aug(images))
