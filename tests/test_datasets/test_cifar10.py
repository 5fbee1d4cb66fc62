import pickle

import numpy as np
import pytest
import torch

from moco_plugin.datasets import CIFAR10


@pytest.fixture()
def python_batches(tmp_path):
    """A miniature CIFAR-10 in torchvision's python-batch layout."""
    folder = tmp_path / 'cifar-10-batches-py'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, n in [*[(f'data_batch_{i}', 4) for i in range(1, 6)], ('test_batch', 3)]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        with open(folder / name, 'wb') as handle:
            pickle.dump({'data': data, 'labels': list(rng.integers(0, 10, n))}, handle, protocol=2)
    return tmp_path


def test_reads_python_batch_format(python_batches):
    train = CIFAR10(str(python_batches), split='train')
    test = CIFAR10(str(python_batches), split='test')
    assert (len(train), len(test)) == (20, 3)
    with open(python_batches / 'cifar-10-batches-py' / 'data_batch_1', 'rb') as handle:
        raw = pickle.load(handle)
    expected = raw['data'][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(train.get_image(0)), expected)
    assert train.get_label(0) == raw['labels'][0]


def test_python_batch_with_code_is_refused(python_batches):
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ('true',))
    with open(python_batches / 'cifar-10-batches-py' / 'test_batch', 'wb') as handle:
        pickle.dump({'data': Evil(), 'labels': []}, handle)
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        CIFAR10(str(python_batches), split='test')


def test_missing_dataset_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match='CIFAR-10 not found.*MOCO_DATA_ROOT'):
        CIFAR10(str(tmp_path))


def test_real_cifar_folder_subset_is_balanced_and_cached(cifar_root):
    pipeline = [dict(type='MultiView', transforms=[dict(type='MoCoV2Augment', size=32)], num_views=2)]
    ds = CIFAR10(str(cifar_root), split='train', subset_size=200, in_memory=True, pipeline=pipeline)
    assert len(ds) == 200
    assert np.bincount(ds.labels[ds.indices]).tolist() == [20] * 10
    item = ds[3]
    assert len(item['inputs']) == 2 and item['inputs'][0].shape == (3, 32, 32)
    assert item['inputs'][0].dtype == torch.uint8
    again = CIFAR10(str(cifar_root), split='train', subset_size=200, in_memory=True)
    np.testing.assert_array_equal(np.asarray(again._array), np.asarray(ds._array))
    np.testing.assert_array_equal(np.asarray(ds._array[3]), np.asarray(ds._load_source(int(ds.indices[3]))))


def test_real_cifar_test_split_size(cifar_root):
    assert len(CIFAR10(str(cifar_root), split='test')) == 10000
