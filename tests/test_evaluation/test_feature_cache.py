"""Feature extraction: batched forward through the data preprocessor, cached on disk."""
import numpy as np
import torch
from torch.utils.data import Dataset

from moco_plugin.evaluation import (cached_features, extract_features, feature_cache_key,
                                    make_eval_loader, sha256_of_state_dict)
from moco_plugin.models.data_preprocessors import SelfSupDataPreprocessor
from moco_plugin.models.algorithms.base import BaseSelfSupervisor


class _TinyImages(Dataset):
    def __init__(self, n: int = 10) -> None:
        self.images = torch.randint(0, 256, (n, 3, 8, 8), generator=torch.Generator().manual_seed(0),
                                    dtype=torch.uint8)
        self.source, self.split, self.indices = '/data/tiny', 'test', np.arange(n)
        self.pipeline = None

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return dict(inputs=self.images[i], data_samples=dict(gt_label=torch.tensor(i % 3)))


class _CountingModel(BaseSelfSupervisor):
    """Pools the normalised image; counts forward calls."""

    def __init__(self) -> None:
        super().__init__(backbone=dict(type='ResNet', depth=18), data_preprocessor=dict(
            type='SelfSupDataPreprocessor'))
        self.calls = 0

    def extract_feat(self, inputs):
        self.calls += 1
        return inputs.mean(dim=(2, 3))


def test_second_extraction_comes_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('MOCO_CACHE_DIR', str(tmp_path))
    model, dataset = _CountingModel(), _TinyImages()
    key = feature_cache_key(sha256_of_state_dict(model.backbone), dataset)
    loader = make_eval_loader(dataset, batch_size=4, num_workers=0)

    first, hit = cached_features(key, lambda: extract_features(model, loader, progress=False))
    assert not hit and model.calls == 3  # ceil(10 / 4) batches
    second, hit = cached_features(key, lambda: extract_features(model, loader, progress=False))
    assert hit and model.calls == 3  # the model did not run again
    np.testing.assert_array_equal(first.features, second.features)
    np.testing.assert_array_equal(second.labels, np.arange(10) % 3)
    # Features went through the data preprocessor's normalisation.
    expected = SelfSupDataPreprocessor().normalize(dataset.images.float(), False).mean(dim=(2, 3))
    np.testing.assert_allclose(first.features, expected.numpy(), rtol=1e-5, atol=1e-5)
    assert model.training  # the previous mode is restored


def test_cache_key_changes_with_weights_subset_and_transform():
    model, dataset = _CountingModel(), _TinyImages()
    base = feature_cache_key(sha256_of_state_dict(model.backbone), dataset)
    with torch.no_grad():
        model.backbone.bn1.running_mean.add_(1e-3)
    assert feature_cache_key(sha256_of_state_dict(model.backbone), dataset) != base
    weights = sha256_of_state_dict(model.backbone)
    subset = _TinyImages()
    subset.indices = np.arange(1, 11)
    assert feature_cache_key(weights, subset) != feature_cache_key(weights, dataset)
    assert feature_cache_key(weights, dataset, dict(pipeline='a')) != \
        feature_cache_key(weights, dataset, dict(pipeline='b'))


def test_damaged_cache_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv('MOCO_CACHE_DIR', str(tmp_path))
    model, dataset = _CountingModel(), _TinyImages()
    loader = make_eval_loader(dataset, batch_size=10, num_workers=0)
    cached_features('k', lambda: extract_features(model, loader, progress=False))
    (tmp_path / 'features' / 'k.features.npy').write_bytes(b'garbage')
    again, hit = cached_features('k', lambda: extract_features(model, loader, progress=False))
    assert not hit and again.features.shape == (10, 3) and model.calls == 2
