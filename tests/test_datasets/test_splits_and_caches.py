"""One class list for every split, caches keyed by the files' state, mixed sizes, 16-bit images."""
import os

import numpy as np
import pytest
from PIL import Image

from moco_plugin.datasets import CIFAR10, CorruptImageError, ImageFolderDataset
from moco_plugin.datasets.transforms.unaugmented_views import UnaugmentedViews
from moco_plugin.evaluation.feature_extraction import dataset_identity


def _image(path, value, size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size, (value, value, value)).save(path)


@pytest.fixture()
def splits_with_empty_train_class(tmp_path):
    """train/{aaa_empty,cat,dog}, test/{cat,dog}: the empty folder exists in train only."""
    (tmp_path / 'train' / 'aaa_empty').mkdir(parents=True)
    for split in ('train', 'test'):
        for name, value in (('cat', 10), ('dog', 200)):
            for i in range(2):
                _image(tmp_path / split / name / f'{i}.png', value)
    return tmp_path


@pytest.mark.parametrize('dataset_type', [CIFAR10, ImageFolderDataset])
def test_every_split_indexes_the_training_split_class_list(splits_with_empty_train_class,
                                                          dataset_type):
    root = str(splits_with_empty_train_class)
    train, test = dataset_type(root, split='train'), dataset_type(root, split='test')
    assert train.classes == test.classes == ['aaa_empty', 'cat', 'dog']
    assert train.metainfo['classes'] == test.metainfo['classes']
    assert [train.get_label(i) for i in range(4)] == [1, 1, 2, 2]
    assert [test.get_label(i) for i in range(4)] == [1, 1, 2, 2]  # base: [0, 0, 1, 1]


def test_a_class_folder_missing_from_the_training_split_is_an_error(splits_with_empty_train_class):
    _image(splits_with_empty_train_class / 'test' / 'zebra' / '0.png', 90)
    with pytest.raises(ValueError, match=r'class folders zebra in .*test are not classes of the '
                                         r'training split'):
        ImageFolderDataset(str(splits_with_empty_train_class), split='test')


def test_evaluation_sets_with_different_class_lists_are_refused(splits_with_empty_train_class):
    from moco_plugin.evaluation.eval_datasets import build_eval_datasets
    root = str(splits_with_empty_train_class)
    bank = dict(type='ImageFolderDataset', data_root=root, split='train')
    query = dict(type='ImageFolderDataset', data_root=root, split='test', classes=['cat', 'dog'])
    with pytest.raises(ValueError, match=r'different class lists \(only in the bank/training set: '
                                         r'aaa_empty'):
        build_eval_datasets(bank, query)


def _replace(path, image_or_bytes):
    before = os.stat(path).st_mtime_ns
    if isinstance(image_or_bytes, bytes):
        path.write_bytes(image_or_bytes)
    else:
        image_or_bytes.save(path)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # as a copy made a second later


def test_in_memory_cache_is_rebuilt_when_a_file_changes(tmp_path):
    for i in range(3):
        _image(tmp_path / 'train' / 'cat' / f'{i}.png', 10 * i)
    first = ImageFolderDataset(str(tmp_path), split='train', in_memory=True)
    assert first.get_image(2).getpixel((0, 0)) == (20, 20, 20)
    identity = dataset_identity(first)
    _replace(tmp_path / 'train' / 'cat' / '2.png', Image.new('RGB', (8, 8), (99, 99, 99)))
    second = ImageFolderDataset(str(tmp_path), split='train', in_memory=True)
    assert second.get_image(2).getpixel((0, 0)) == (99, 99, 99)  # base: the cached (20, 20, 20)
    assert dataset_identity(second) != identity  # the feature cache is keyed by it too
    _replace(tmp_path / 'train' / 'cat' / '1.png', os.urandom(300))
    with pytest.raises(CorruptImageError, match=r'1.png'):
        ImageFolderDataset(str(tmp_path), split='train', in_memory=True)


def test_in_memory_mixed_sizes_name_the_setting_or_are_resized(tmp_path):
    _image(tmp_path / 'train' / 'cat' / 'a.png', 50, size=(40, 30))
    _image(tmp_path / 'train' / 'cat' / 'b.png', 60, size=(20, 20))
    with pytest.raises(ValueError, match=r'in_memory_size=256\) to resize'):
        ImageFolderDataset(str(tmp_path), split='train', in_memory=True)
    ds = ImageFolderDataset(str(tmp_path), split='train', in_memory=True, in_memory_size=16,
                            pipeline=[dict(type='UnaugmentedViews', num_views=2)])
    views = [ds[i]['inputs'] for i in range(2)]
    assert [tuple(v[0].shape) for v in views] == [(3, 16, 16), (3, 16, 16)]
    assert int(views[1][0][0, 8, 8]) == 60


def test_batched_views_of_mixed_sizes_are_refused_or_resized(tmp_path):
    small, large = Image.new('RGB', (20, 20), 7), Image.new('RGB', (40, 30), 9)
    views = UnaugmentedViews(num_views=2)
    views(small)
    with pytest.raises(ValueError, match=r'needs one size: set size=N in UnaugmentedViews'):
        views(large)
    resized = UnaugmentedViews(num_views=2, size=16)
    assert [tuple(resized(img)[0].shape) for img in (small, large)] == [(3, 16, 16)] * 2


def test_16_bit_images_are_scaled_by_257_not_stretched(tmp_path):
    path = tmp_path / 'train' / 'cat' / 'deep.png'
    path.parent.mkdir(parents=True)
    Image.fromarray(np.full((4, 4), 238 * 257, dtype=np.uint16)).save(path)
    ds = ImageFolderDataset(str(tmp_path), split='train')
    assert ds.get_image(0).getpixel((1, 1)) == (238, 238, 238)  # base: (255, 255, 255)
