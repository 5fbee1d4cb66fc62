"""Linear probe on precomputed features: accuracy, schedule, saved head."""
import numpy as np
import pytest
import torch
from torch import nn

from moco_plugin.evaluation import FeatureSet, LinearProbeSettings, linear_probe_on_features
from moco_plugin.evaluation.linear_probe import plot_linear_curve, save_linear_head
from moco_plugin.utils import safe_torch_load


def _separable(n_per_class: int, seed: int, dim: int = 32, classes: int = 10) -> FeatureSet:
    """Non-negative (ReLU-like, as pooled ResNet features) clusters, linearly separable."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(123).uniform(0, 2, size=(classes, dim))
    labels = np.repeat(np.arange(classes), n_per_class)
    features = np.maximum(centres[labels] + 0.15 * rng.normal(size=(len(labels), dim)), 0)
    return FeatureSet(features.astype(np.float32), labels)


def test_moco_protocol_defaults_exceed_95_percent_on_separable_features():
    train, test = _separable(100, seed=0), _separable(30, seed=1)
    settings = LinearProbeSettings(epochs=10)  # lr 30, momentum 0.9, wd 0, batch 256, cosine
    result = linear_probe_on_features(train, test, settings, progress=False)
    assert result.top1 > 95.0 and result.top5 >= result.top1
    assert [c['epoch'] for c in result.curve] == list(range(1, 11))
    assert result.curve[0]['lr'] == 30.0 and result.curve[-1]['lr'] < 1.0
    assert isinstance(result.head, nn.Linear) and result.head.out_features == 10


def test_step_schedule_drops_tenfold_at_60_and_80_percent():
    settings = LinearProbeSettings(epochs=100, schedule='step')
    assert [settings.lr_at(e) for e in (0, 59, 60, 79, 80, 99)] == pytest.approx(
        [30, 30, 3, 3, 0.3, 0.3])
    with pytest.raises(ValueError, match="'cos' or 'step'"):
        LinearProbeSettings(schedule='linear')


def test_linear_head_is_its_own_checkpoint(tmp_path):
    train, test = _separable(20, seed=0), _separable(5, seed=1)
    result = linear_probe_on_features(train, test, LinearProbeSettings(epochs=2), progress=False)
    path = tmp_path / 'head.pth'
    save_linear_head(result, str(path), dict(algorithm='Test'))
    checkpoint = safe_torch_load(str(path))  # weights_only: plain types only
    assert set(checkpoint['state_dict']) == {'weight', 'bias'}
    head = nn.Linear(32, 10)
    head.load_state_dict(checkpoint['state_dict'])
    assert torch.equal(head.weight, result.head.weight)
    assert checkpoint['meta']['algorithm'] == 'Test' and checkpoint['meta']['top1'] == result.top1
    plot_linear_curve(result.curve, str(tmp_path / 'curve.png'), 'test')
    assert (tmp_path / 'curve.png').stat().st_size > 1000


class _BrightOrDark(torch.utils.data.Dataset):
    """Class 1 images are bright, class 0 dark: separable after any augmentation."""

    classes = ['dark', 'bright']

    def __len__(self) -> int:
        return 32

    def __getitem__(self, i):
        label = i % 2
        image = torch.full((3, 16, 16), 200 if label else 40, dtype=torch.uint8)
        return dict(inputs=image, data_samples=dict(gt_label=torch.tensor(label)))


def test_augmented_path_trains_only_the_head_through_the_frozen_backbone():
    from moco_plugin.evaluation import extract_features, linear_probe_with_augmentation
    from moco_plugin.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(dict(type='RandomInit', backbone=dict(type='ResNet', depth=18)))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loader = torch.utils.data.DataLoader(_BrightOrDark(), batch_size=8, shuffle=True)
    test = extract_features(model, torch.utils.data.DataLoader(_BrightOrDark(), batch_size=16),
                            progress=False)
    result = linear_probe_with_augmentation(model, loader, test, LinearProbeSettings(
        epochs=2, lr=0.1, batch_size=8), progress=False)
    assert len(result.curve) == 2 and result.head.out_features == 2
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN stats too
    assert all(p.grad is None for p in model.parameters())
