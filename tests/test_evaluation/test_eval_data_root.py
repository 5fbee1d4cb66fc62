"""``--eval-data ROOT``: the layout of a dataset root is detected and read as two splits with
one class list; what does not fit is one line; a benchmark runs on it end to end."""
import json
import re

import numpy as np
import pytest

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.datasets.cifar10 import CIFAR10_CLASSES
from moco_plugin.evaluation.eval_data_root import detect_layout, eval_data_cfgs
from moco_plugin.evaluation.eval_datasets import build_eval_datasets
from tests.helpers.dataset_formats import (copy_image_folders, real_images, upsample,
                                           write_cifar10, write_cifar100, write_stl10)

RANDOM_CONFIG = 'random_init_resnet18_cifar10'
FEW = ['airplane', 'cat', 'ship']
STL_CLASSES = ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck']


def _cifar10_batches(cifar_root, root):
    train, test = (real_images(cifar_root, s, FEW, 5) for s in ('train', 'test'))
    return write_cifar10(root, train, test), 'CIFAR10', ('train', 'test'), list(CIFAR10_CLASSES)


def _cifar10_folders(cifar_root, root):
    copy_image_folders(cifar_root, root, dict(train='train', test='test'), CIFAR10_CLASSES, 1)
    return root, 'CIFAR10', ('train', 'test'), list(CIFAR10_CLASSES)


def _cifar100(cifar_root, root):
    splits = {}
    for split in ('train', 'test'):
        images, labels = real_images(cifar_root, split, FEW, 2)
        splits[split] = (images, labels, labels * 0)
    names = ['rocket', 'leopard', 'ship']
    return write_cifar100(root, splits, names, ['all']), 'CIFAR100', ('train', 'test'), names


def _stl10(cifar_root, root):
    splits = {}
    for split in ('train', 'test'):
        images, labels = real_images(cifar_root, split, FEW, 3)
        splits[split] = (upsample(images, 96), np.array([0, 3, 8])[labels])
    return write_stl10(root, splits, STL_CLASSES), 'STL10', ('train', 'test'), STL_CLASSES


def _image_folders(cifar_root, root):
    # 'ship' only in the training split: the test split still indexes the training list.
    copy_image_folders(cifar_root, root, dict(train='train'), FEW, 2)
    copy_image_folders(cifar_root, root, dict(val='test'), FEW[:2], 1)
    return root, 'ImageFolderDataset', ('train', 'val'), FEW


LAYOUTS = dict(cifar10_batches=_cifar10_batches, cifar10_folders=_cifar10_folders,
               cifar100=_cifar100, stl10=_stl10, image_folders=_image_folders)


@pytest.mark.parametrize('layout', LAYOUTS)
def test_each_layout_is_detected_and_both_splits_share_one_class_list(layout, cifar_root,
                                                                     tmp_path):
    root, kind, splits, classes = LAYOUTS[layout](cifar_root, tmp_path / layout)
    assert detect_layout(str(root)) == kind
    train_cfg, test_cfg = eval_data_cfgs(str(root), image_size=32)
    assert (train_cfg['type'], train_cfg['split'], test_cfg['split']) == (kind, *splits)
    assert train_cfg['pipeline'] == [dict(type='ResizeCenterCrop', size=32)]
    train_set, test_set = build_eval_datasets(train_cfg, test_cfg)
    assert train_set.classes == test_set.classes == classes
    assert (train_set.labels >= 0).all() and len(test_set) > 0


def test_image_folders_take_test_when_there_is_no_val_and_named_splits(cifar_root, tmp_path):
    root = copy_image_folders(cifar_root, tmp_path / 'pets', dict(train='train', test='test',
                                                                  holdout='test'), FEW[:2], 1)
    assert eval_data_cfgs(str(root), 32)[1]['split'] == 'test'
    train_cfg, test_cfg = eval_data_cfgs(str(root), 32, train_split='test', test_split='holdout')
    assert (train_cfg['split'], test_cfg['split'], test_cfg['classes']) == ('test', 'holdout', FEW[:2])


def _exit_code(argv):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_cli.main(argv)
    return exit_info.value.code


def _one_error_line(capsys) -> str:
    error = [ln for ln in capsys.readouterr().err.splitlines() if 'error:' in ln]
    assert len(error) == 1
    return error[0]


@pytest.mark.parametrize('layout, extra, expected', [
    (None, [], r'no dataset layout found \(sub-folders: photos\); expected cifar-10-batches-py/ '
               r'.*cifar-100-python/ .*stl10_binary/ .*split folders train/ and val/ or test/'),
    ('stl10', ['--test-split', 'unlabeled'], r"STL-10's unlabeled split has no labels"),
    ('cifar100', ['--test-split', 'val'], r"is CIFAR100, whose labelled splits are train and test, "
                                          r"not 'val'"),
    ('image_folders', ['--test-split', 'test'], r'has no test/ split folder \(sub-folders: train, '
                                                r'val\); pass --test-split NAME'),
])
def test_what_does_not_fit_is_one_line(layout, extra, expected, cifar_root, tmp_path, capsys):
    if layout is None:
        root = tmp_path / 'unknown'
        (root / 'photos').mkdir(parents=True)
    else:
        root = LAYOUTS[layout](cifar_root, tmp_path / layout)[0]
    assert _exit_code([RANDOM_CONFIG, 'random', '--eval-data', str(root), '--knn', *extra]) == 2
    assert re.search(expected, _one_error_line(capsys))


def test_eval_data_does_not_go_with_train_data(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_cli.parse_args([RANDOM_CONFIG, 'random', '--eval-data', 'a', '--train-data',
                                     'b', '--test-data', 'c'])
    assert exit_info.value.code == 2
    assert ('--eval-data names both splits of one dataset root; it does not go with '
            '--train-data/--test-data' in _one_error_line(capsys))


@pytest.mark.parametrize('data_flags, name', [(['--eval-data', 'a'], '--eval-data'),
                                              (['--train-data', 'b', '--test-data', 'c'],
                                               '--train-data')])
def test_data_root_does_not_go_with_other_data(capsys, data_flags, name):
    # --data-root was silently ignored: the benchmark read the other data
    with pytest.raises(SystemExit) as exit_info:
        benchmark_cli.parse_args([RANDOM_CONFIG, 'random', '--data-root', 'x', *data_flags])
    assert exit_info.value.code == 2
    assert (f"--data-root points the config's own dataset elsewhere and is not used with "
            f'{name}, which names the data' in _one_error_line(capsys))


def test_cifar100_coarse_labels(cifar_root, tmp_path):
    splits = {}
    for split in ('train', 'test'):
        images, labels = real_images(cifar_root, split, FEW, 2)
        splits[split] = (images, labels, np.array([0, 1, 0])[labels])  # airplane, ship: vehicles
    root = write_cifar100(tmp_path / 'c100', splits, ['rocket', 'leopard', 'ship'],
                          ['vehicles', 'animals'])
    out = tmp_path / 'coarse.json'
    assert _exit_code([RANDOM_CONFIG, 'random', '--eval-data', str(root), '--knn', '--k', '3',
                       '--cifar100-labels', 'coarse', '--num-workers', '0', '--out', str(out),
                       '--quiet', '--no-cache']) == 0
    dataset = json.loads(out.read_text())['dataset']
    assert dataset['classes'] == ['vehicles', 'animals'] and dataset['num_classes'] == 2
    train_cfg, _ = eval_data_cfgs(str(root), 32, cifar100_labels='coarse')
    train_set, _ = build_eval_datasets(train_cfg, eval_data_cfgs(str(root), 32,
                                                                 cifar100_labels='coarse')[1])
    assert sorted(np.asarray(train_set.labels).tolist()) == [0, 0, 0, 0, 1, 1]


def test_cifar100_labels_need_a_cifar100_root(cifar_root, tmp_path, capsys):
    root = LAYOUTS['stl10'](cifar_root, tmp_path / 'stl')[0]
    assert _exit_code([RANDOM_CONFIG, 'random', '--eval-data', str(root), '--knn',
                       '--cifar100-labels', 'coarse']) == 2
    assert re.search(r'--cifar100-labels coarse applies to a CIFAR-100 root; --eval-data .* is '
                     r'STL10: drop --cifar100-labels', _one_error_line(capsys))
    with pytest.raises(SystemExit):
        benchmark_cli.parse_args([RANDOM_CONFIG, 'random', '--cifar100-labels', 'coarse'])
    assert '--cifar100-labels goes with a CIFAR-100 --eval-data root' in _one_error_line(capsys)


def test_benchmark_on_an_stl10_root(cifar_root, tmp_path):
    root = _stl10(cifar_root, tmp_path / 'stl')[0]
    out = tmp_path / 'stl.json'
    code = _exit_code([RANDOM_CONFIG, 'random', '--eval-data', str(root), '--knn', '--k', '3',
                       '--linear', '--linear-aug', '--linear-epochs', '1', '--num-workers', '0',
                       '--out', str(out), '--quiet', '--no-cache'])
    assert code == 0
    result = json.loads(out.read_text())
    dataset = result['dataset']
    assert (dataset['type'], dataset['train_split'], dataset['test_split']) == ('STL10', 'train', 'test')
    assert dataset['classes'] == STL_CLASSES and dataset['num_classes'] == 10
    assert dataset['data_root'] == str(root) and dataset['config_dataset'] is False
    assert dataset['image_size'] == 32 and (result['n_train'], result['n_test']) == (9, 9)
    assert 0 <= result['knn']['3']['top1'] <= 100 and 0 <= result['linear']['top1'] <= 100
