"""Data on the device: indices from the loader, images gathered by the preprocessor.

The same sampler order and augmentation seed must give bit-identical views to the loader
path (``UnaugmentedViews`` collated uint8 batches), standalone and through tools/train.py.
"""
import itertools

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, default_collate
from mmengine.runner import Runner
from torch.utils.data import DataLoader

import moco_plugin.engine  # noqa: F401  (registers the hooks)
from moco_plugin.cli.train import build_config, parse_args
from moco_plugin.datasets import CIFAR10, DeviceArrayDataset
from moco_plugin.engine.hooks import DeviceDataHook
from moco_plugin.models.data_preprocessors import DeviceDataPreprocessor, SelfSupDataPreprocessor
from tests.helpers.dataset_formats import write_cifar10

AUGMENT = dict(type='BatchMoCoAugment', size=32, seed=123, blur_prob=0.0)


@pytest.fixture(scope='module')
def cifar_batches(tmp_path_factory):
    """A 64 + 16 image CIFAR-10 in the python-batch format, random pixels."""
    rng = np.random.default_rng(0)
    train = (rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8), np.arange(64) % 10)
    test = (rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8), np.arange(16) % 10)
    return str(write_cifar10(tmp_path_factory.mktemp('cifar'), train, test))


def _loader(dataset, batch_size=8):
    sampler = DefaultSampler(dataset, shuffle=True, seed=7)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, collate_fn=default_collate,
                      drop_last=True, num_workers=0)


def test_device_path_gives_the_loader_paths_views_bit_for_bit(cifar_batches):
    loader_set = CIFAR10(cifar_batches, in_memory=True, subset_size=48,
                         pipeline=[dict(type='UnaugmentedViews', num_views=2)])
    device_set = DeviceArrayDataset(dict(type='CIFAR10', data_root=cifar_batches, in_memory=True,
                                         subset_size=48))
    reference = SelfSupDataPreprocessor(batch_augment=AUGMENT)
    on_device = DeviceDataPreprocessor(num_views=2, batch_augment=AUGMENT)
    on_device.attach_images(device_set.image_array())
    batches = list(zip(_loader(loader_set), _loader(device_set)))
    assert len(batches) == 6
    for loaded, indexed in batches:
        assert indexed['inputs'].dtype == torch.int64 and indexed['inputs'].shape == (8,)
        want = reference(loaded, training=True)
        got = on_device(indexed, training=True)
        assert len(got['inputs']) == 2
        for view_want, view_got in zip(want['inputs'], got['inputs']):
            assert view_got.dtype == torch.float32 and torch.equal(view_want, view_got)
        for key in ('gt_label', 'idx'):
            assert torch.equal(want['data_samples'][key], got['data_samples'][key])
    # the two views differ (two draws), and the stream advanced the same in both
    assert not torch.equal(got['inputs'][0], got['inputs'][1])
    assert reference.batch_augment.calls == on_device.batch_augment.calls == 12


def test_image_batches_pass_through_and_eval_mode_does_not_augment(cifar_batches):
    device_set = DeviceArrayDataset(dict(type='CIFAR10', data_root=cifar_batches, in_memory=True))
    on_device = DeviceDataPreprocessor(batch_augment=AUGMENT)
    images = on_device.attach_images(device_set.image_array())
    assert images.shape == (64, 3, 32, 32) and images.dtype == torch.uint8
    assert torch.equal(images[5], torch.from_numpy(device_set.image_array()[5]).permute(2, 0, 1))
    plain = SelfSupDataPreprocessor()
    batch = dict(inputs=images[:4].clone())
    assert torch.equal(on_device(batch)['inputs'], plain(batch)['inputs'])
    views = on_device(dict(inputs=torch.tensor([3, 1])), training=False)['inputs']
    assert torch.equal(views[0], plain(dict(inputs=images[[3, 1]]))['inputs'])
    assert on_device.batch_augment.calls == 0
    # the pixels stay out of checkpoints; the augmentation stream's position goes in, as before
    assert set(on_device.state_dict()) == set(SelfSupDataPreprocessor(batch_augment=AUGMENT)
                                              .state_dict())
    assert 'batch_augment._extra_state' in on_device.state_dict()
    item = device_set[3]
    assert item == dict(inputs=3, data_samples=dict(gt_label=3, idx=3))


def test_missing_halves_are_refused_in_one_line(cifar_batches):
    with pytest.raises(ValueError, match='in_memory=True'):
        DeviceArrayDataset(dict(type='CIFAR10', data_root=cifar_batches))
    with pytest.raises(RuntimeError, match="add dict\\(type='DeviceDataHook'\\)"):
        DeviceDataPreprocessor()(dict(inputs=torch.tensor([0, 1])), training=True)
    with pytest.raises(ValueError, match=r'uint8 \(N, H, W, 3\)'):
        DeviceDataPreprocessor().attach_images(np.zeros((2, 3, 4, 4), dtype=np.float32))

    class Stub:  # just what the hook reads
        def __init__(self, dataset, preprocessor):
            self.train_dataloader = DataLoader(dataset)
            self.model = torch.nn.Module()
            self.model.data_preprocessor = preprocessor

    plain_set = CIFAR10(cifar_batches, in_memory=True)
    with pytest.raises(ValueError, match="not a DeviceArrayDataset; wrap it"):
        DeviceDataHook().before_train(Stub(plain_set, DeviceDataPreprocessor()))
    device_set = DeviceArrayDataset(dict(type='CIFAR10', data_root=cifar_batches, in_memory=True))
    with pytest.raises(ValueError, match="data_preprocessor.type='DeviceDataPreprocessor'"):
        DeviceDataHook().before_train(Stub(device_set, SelfSupDataPreprocessor()))


FAST = 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10-fastaug.py'
GPU = 'configs/mocov2/mocov2_resnet18_1xb512-coslr-200e_cifar10-gpu.py'
SMALL = ['train_dataloader.batch_size=16', 'model.queue_len=64', 'model.bn_splits=4', 'model.backbone.cifar_stem=False',
         'model.data_preprocessor.batch_augment.compile=False', 'train_cfg.max_epochs=1',
         'default_hooks.checkpoint.interval=100']


def _preprocessed(config, options, data_root, work_dir):
    """The data preprocessor's training outputs of one epoch of tools/train.py's Runner."""
    args = parse_args([config, '--data-root', data_root, '--work-dir', str(work_dir),
                       '--cfg-options', *options])
    cfg = build_config(args)
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer)  # fp32
    cfg.pop('custom_hooks')
    hooks = [dict(type='MomentumUpdateHook'), dict(type='QueueHook')]
    if 'gpu' in config:
        hooks.append(dict(type='DeviceDataHook'))
    cfg.custom_hooks = hooks
    runner = Runner.from_cfg(cfg)
    seen = []
    forward = runner.model.data_preprocessor.forward

    def record(data, training=False):
        out = forward(data, training)
        if training:
            seen.append(out)
        return out
    runner.model.data_preprocessor.forward = record
    runner.train()
    return seen


def test_tools_train_device_config_sees_the_same_views_as_the_loader_config(cifar_batches,
                                                                            tmp_path):
    """Same seed (randomness.seed=0, augmentation seed drawn from it): same batches, same draws."""
    loader_path = _preprocessed(FAST, SMALL + ['train_dataloader.dataset.subset_size=48'],
                                cifar_batches, tmp_path / 'a')
    device_path = _preprocessed(GPU, SMALL + ['train_dataloader.dataset.dataset.subset_size=48'],
                                cifar_batches, tmp_path / 'b')
    assert len(loader_path) == len(device_path) == 3
    for want, got in zip(loader_path, device_path):
        for view_want, view_got in itertools.zip_longest(want['inputs'], got['inputs']):
            assert torch.equal(view_want, view_got)
        assert torch.equal(want['data_samples']['idx'], got['data_samples']['idx'])
