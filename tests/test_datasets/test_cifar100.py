"""CIFAR100: torchvision's cifar-100-python pickles, fine and coarse labels, clear errors."""
import pickle

import numpy as np
import pytest

from moco_plugin.datasets import CIFAR100
from tests.helpers.dataset_formats import real_images, write_cifar100

CLASSES = ['airplane', 'cat', 'ship']
FINE = ['rocket', 'leopard', 'ship_fine', 'tiger']  # labels 0..2 of the images map to 0, 1, 2
COARSE = ['vehicles', 'large_carnivores']


@pytest.fixture()
def cifar100_root(cifar_root, tmp_path):
    splits = {}
    for split, per_class in (('train', 3), ('test', 2)):
        images, labels = real_images(cifar_root, split, CLASSES, per_class)
        splits[split] = (images, labels, np.where(labels == 1, 1, 0))
    return write_cifar100(tmp_path / 'c100', splits, FINE, COARSE), splits


def test_decodes_the_pixels_labels_and_class_names(cifar100_root):
    root, splits = cifar100_root
    for split in ('train', 'test'):
        dataset = CIFAR100(str(root), split=split)
        images, fine, _ = splits[split]
        assert len(dataset) == len(images) and dataset.classes == FINE
        for i in range(len(dataset)):
            np.testing.assert_array_equal(np.asarray(dataset.get_image(i)), images[i])
        assert [dataset.get_label(i) for i in range(len(dataset))] == fine.tolist()


def test_coarse_labels_are_the_superclasses(cifar100_root):
    root, splits = cifar100_root
    dataset = CIFAR100(str(root / 'cifar-100-python'), split='train', label_kind='coarse')
    assert dataset.classes == COARSE
    assert dataset.labels.tolist() == splits['train'][2].tolist()
    assert dataset.content_fingerprint() != CIFAR100(str(root)).content_fingerprint()


def test_in_memory_array_and_resized_copy(cifar100_root):
    root, splits = cifar100_root
    dataset = CIFAR100(str(root), split='test', in_memory=True, subset_size=3)
    np.testing.assert_array_equal(dataset._array, splits['test'][0][dataset.indices])
    small = CIFAR100(str(root), split='test', in_memory=True, in_memory_size=16)
    assert small._array.shape == (6, 16, 16, 3)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(split='val'), ValueError, r"split must be 'train' or 'test', got 'val'.*--test-split test"),
    (dict(label_kind='super'), ValueError, r"label_kind must be 'fine'.*or 'coarse'"),
])
def test_bad_arguments_are_one_line(cifar100_root, kwargs, error, match):
    with pytest.raises(error, match=match) as info:
        CIFAR100(str(cifar100_root[0]), **kwargs)
    assert '\n' not in str(info.value)


def test_missing_folder_names_the_layout_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'CIFAR-100 not found.*cifar-100-python/.*'
                                                r'torchvision.datasets.CIFAR100') as info:
        CIFAR100(str(tmp_path))
    assert '\n' not in str(info.value)


def test_meta_with_code_is_refused(cifar100_root):
    class Evil:
        def __reduce__(self):
            return (print, ('pwned',))
    meta = cifar100_root[0] / 'cifar-100-python' / 'meta'
    meta.write_bytes(pickle.dumps({'fine_label_names': Evil()}))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        CIFAR100(str(cifar100_root[0]))
