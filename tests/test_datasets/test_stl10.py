"""STL10: torchvision's stl10_binary files (column-major 96 px images), labels, truncated files."""
import numpy as np
import pytest

from moco_plugin.datasets import STL10
from tests.helpers.dataset_formats import real_images, upsample, write_stl10

CIFAR_CLASSES = ['airplane', 'bird', 'automobile']
STL_CLASSES = ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck']


@pytest.fixture()
def stl_root(cifar_root, tmp_path):
    splits = {}
    for split, per_class in (('train', 2), ('test', 1)):
        images, labels = real_images(cifar_root, split, CIFAR_CLASSES, per_class)
        splits[split] = (upsample(images, 96), labels * 4 + 1)  # labels 1, 5, 9 (of 0..9)
    splits['unlabeled'] = (splits['test'][0][::-1], None)
    return write_stl10(tmp_path / 'stl', splits, STL_CLASSES), splits


def test_decodes_the_column_major_pixels_and_labels(stl_root):
    root, splits = stl_root
    for split in ('train', 'test'):
        dataset = STL10(str(root), split=split)
        images, labels = splits[split]
        assert dataset.classes == STL_CLASSES and len(dataset) == len(images)
        for i in range(len(dataset)):
            np.testing.assert_array_equal(np.asarray(dataset.get_image(i)), images[i])
        assert dataset.labels.tolist() == labels.tolist()
    assert isinstance(STL10(str(root)).images.base, np.memmap)


def test_unlabeled_split_has_label_minus_one(stl_root):
    root, splits = stl_root
    dataset = STL10(str(root / 'stl10_binary'), split='unlabeled')
    assert dataset.labels.tolist() == [-1] * 3
    np.testing.assert_array_equal(np.asarray(dataset.get_image(0)), splits['unlabeled'][0][0])


@pytest.mark.parametrize('name, cut, match', [
    ('train_X.bin', 100, r'train_X.bin is truncated: .* not a whole number of 3x96x96 images'),
    ('test_y.bin', 1, r'test_y.bin is truncated: 2 labels for the 3 images of .*test_X.bin'),
])
def test_truncated_file_is_one_line_naming_it(stl_root, name, cut, match):
    path = stl_root[0] / 'stl10_binary' / name
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(ValueError, match=match) as info:
        STL10(str(stl_root[0]), split=name.split('_')[0])
    assert '\n' not in str(info.value) and 'download stl10_binary again' in str(info.value)


def test_missing_folder_and_bad_split_are_one_line(stl_root, tmp_path):
    with pytest.raises(FileNotFoundError, match=r'STL-10 not found.*stl10_binary/.*STL10\(ROOT'):
        STL10(str(tmp_path / 'elsewhere'))
    with pytest.raises(ValueError, match=r"split must be 'train', 'test' or 'unlabeled', got 'val'"):
        STL10(str(stl_root[0]), split='val')
