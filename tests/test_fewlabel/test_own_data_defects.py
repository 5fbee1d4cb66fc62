"""Regression tests of the own-data defects of issue 20 (each failed on the code before it).

Small synthetic folders (8x8 images) and tiny configs over the packaged CPU config keep
these quick; the whole flow on real images is tests/test_fewlabel/test_own_data_round_trip.py.
"""
import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image

from moco_plugin.cli import make_label_subset, train_few_labels
from moco_plugin.datasets import CsvImageDataset, ImageFolderDataset, read_label_file

BASE = 'mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu'
CLASSES = ('cat', 'dog', 'owl')


def run(module, *argv):
    with pytest.raises(SystemExit) as exit_info:
        module.main([str(a) for a in argv])
    return exit_info.value.code


def images(folder, names, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(folder / name)


def config(tmp_path, dataset: dict):
    """The packaged CPU config with another training dataset."""
    from moco_plugin.utils.config_files import find_config
    path = tmp_path / 'own_config.py'
    path.write_text(f'_base_ = [{str(find_config(BASE))!r}]\n'
                    f'train_dataloader = dict(dataset=dict(_delete_=True, **{dataset!r}))\n')
    return str(path)


@pytest.fixture
def nested(tmp_path):
    root = tmp_path / 'data'
    for c in CLASSES:
        images(root / 'train' / c, [f'{i}.png' for i in range(6)], seed=len(c))
    return root


@pytest.fixture
def flat(tmp_path):
    root = tmp_path / 'flat' / 'train'
    images(root, [f'img_{i:02d}.png' for i in range(18)])
    return root.parent


# --- the labels table -------------------------------------------------------------------

def test_labels_table_is_read_by_column_name_with_bom_and_crlf(nested, tmp_path):
    dataset = ImageFolderDataset(str(nested), split='train')
    table = tmp_path / 'labels.csv'
    table.write_bytes('\ufefflabel;path\r\ndog;train/dog/3.png\r\n0;train/cat/0.png\r\n'
                      .encode('utf-8'))
    labels = read_label_file(str(table), dataset)
    assert dict(zip(labels.paths, labels.labels.tolist())) == {'train/dog/3.png': 1,
                                                               'train/cat/0.png': 0}


def test_one_column_row_is_one_line_error_naming_the_row(nested, tmp_path):
    dataset = ImageFolderDataset(str(nested), split='train')
    table = tmp_path / 'labels.csv'
    table.write_text('path,label\ntrain/dog/3.png,dog\ntrain/cat/0.png\n')
    with pytest.raises(ValueError, match=r'labels.csv line 3: 1 field\(s\), the header has 2'):
        read_label_file(str(table), dataset)


def test_same_image_with_different_labels_is_refused(nested, tmp_path):
    dataset = ImageFolderDataset(str(nested), split='train')
    table = tmp_path / 'labels.csv'
    table.write_text('path,label\ntrain/dog/3.png,dog\ntrain/cat/0.png,cat\ntrain/dog/3.png,owl\n'
                     'train/cat/0.png,cat\n')
    with pytest.raises(ValueError, match=r'different labels on line 4 \(train/dog/3.png: owl here, '
                                         r'dog on line 2\)'):
        read_label_file(str(table), dataset)


def test_unknown_classes_are_named_by_row_in_one_line(nested, tmp_path):
    dataset = ImageFolderDataset(str(nested), split='train')
    table = tmp_path / 'labels.csv'
    table.write_text('path,label\ntrain/dog/3.png,dgo\ntrain/cat/0.png,cat\ntrain/cat/1.png,7\n')
    with pytest.raises(ValueError, match=r'line 2 \(dgo\), line 4 \(7\); the classes are cat, dog'):
        read_label_file(str(table), dataset)


def test_skip_marks_rejected_images_which_are_never_picked_again(nested, tmp_path):
    from moco_plugin.datasets.label_files import write_label_file
    dataset = ImageFolderDataset(str(nested), split='train')
    table = tmp_path / 'labels.csv'
    table.write_text('path,label\ntrain/dog/3.png,dog\ntrain/cat/1.png,SKIP\ntrain/owl/2.png,\n')
    labels = read_label_file(str(table), dataset)
    assert labels.paths == ['train/dog/3.png'] and labels.skipped_paths == ['train/cat/1.png']
    write_label_file(labels, str(tmp_path / 'labels.json'))
    back = read_label_file(str(tmp_path / 'labels.json'), dataset)
    assert back.skipped_paths == ['train/cat/1.png']
    assert sorted(back.seen().tolist()) == sorted([int(labels.indices[0]), int(labels.skipped[0])])


# --- ; tables for the benchmark ----------------------------------------------------------

def test_semicolon_table_is_read_and_a_missing_column_names_header_and_delimiter(tmp_path):
    images(tmp_path / 'imgs', ['a.png', 'b.png'])
    table = tmp_path / 'GT-final_test.csv'
    table.write_text('Filename;Width;Height;ClassId\nimgs/a.png;8;8;3\nimgs/b.png;8;8;1\n')
    dataset = CsvImageDataset(str(table), path_column='Filename', label_column='ClassId')
    assert dataset.classes == ['1', '3'] and dataset.labels.tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"no column path, label \(header found: Filename, Width, "
                                         r"Height, ClassId; delimiter detected: ';'\)"):
        CsvImageDataset(str(table))


# --- make_label_subset --------------------------------------------------------------------

def test_add_with_csv_merges_the_labeller_table_into_the_labels(nested, tmp_path, capsys):
    cfg = config(tmp_path, dict(type='ImageFolderDataset', data_root=str(nested), split='train'))
    (tmp_path / 'first.csv').write_text('path,label\ntrain/cat/0.png,cat\ntrain/dog/0.png,dog\n')
    assert run(make_label_subset, cfg, '--csv', tmp_path / 'first.csv',
               '--out', tmp_path / 'labels.json') == 0
    dataset = ImageFolderDataset(str(nested), split='train')
    from moco_plugin.datasets.label_files import make_label_set, write_label_file
    ids = {p: i for i, p in enumerate(dataset._source_files())}
    pick = [ids[str(nested / 'train' / 'owl' / '1.png')], ids[str(nested / 'train' / 'cat' / '4.png')]]
    write_label_file(make_label_set(dataset, pick, [-1, -1], kind='selection'),
                     str(tmp_path / 'pick.json'))
    (tmp_path / 'new.csv').write_text('path,label\ntrain/owl/1.png,owl\ntrain/cat/4.png,skip\n')
    assert run(make_label_subset, cfg, '--add', tmp_path / 'pick.json', '--csv',
               tmp_path / 'new.csv', '--labels', tmp_path / 'labels.json',
               '--out', tmp_path / 'labels_2.json') == 0
    merged = json.loads((tmp_path / 'labels_2.json').read_text())
    assert {i['path']: i['label'] for i in merged['items']} == {
        'train/cat/0.png': 0, 'train/dog/0.png': 1, 'train/owl/1.png': 2}
    assert [s['path'] for s in merged['skipped']] == ['train/cat/4.png']
    # a conflicting label for an image already labelled: refused in one line
    (tmp_path / 'bad.csv').write_text('path,label\ntrain/cat/0.png,dog\n')
    capsys.readouterr()
    assert run(make_label_subset, cfg, '--csv', tmp_path / 'bad.csv', '--labels',
               tmp_path / 'labels.json', '--out', tmp_path / 'x.json') == 2
    assert 'train/cat/0.png (cat before, dog now)' in capsys.readouterr().err


def test_add_without_labels_to_reveal_says_how_to_merge(flat, tmp_path, capsys):
    cfg = config(tmp_path, dict(type='ImageFolderDataset', data_root=str(flat), split='train'))
    (tmp_path / 'first.csv').write_text('path,label\ntrain/img_00.png,cat\ntrain/img_01.png,dog\n')
    assert run(make_label_subset, cfg, '--classes', 'cat,dog,owl', '--csv', tmp_path / 'first.csv',
               '--out', tmp_path / 'labels.json') == 0
    labels = json.loads((tmp_path / 'labels.json').read_text())
    assert labels['classes'] == list(CLASSES) and [i['label'] for i in labels['items']] == [0, 1]
    dataset = ImageFolderDataset(str(flat), split='train', classes=list(CLASSES))
    from moco_plugin.datasets.label_files import make_label_set, write_label_file
    write_label_file(make_label_set(dataset, [5], [-1], kind='selection'), str(tmp_path / 'p.json'))
    capsys.readouterr()
    # the class list comes from the label file: --classes is not needed again
    assert run(make_label_subset, cfg, '--add', tmp_path / 'p.json', '--labels',
               tmp_path / 'labels.json', '--out', tmp_path / 'x.json') == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert 'no labels to reveal' in err and '--csv NEW.csv --labels' in err
    assert f'--add {tmp_path / "p.json"}' in err


def test_flat_folder_without_class_list_says_to_name_the_classes(flat, tmp_path, capsys):
    cfg = config(tmp_path, dict(type='ImageFolderDataset', data_root=str(flat), split='train'))
    (tmp_path / 'first.csv').write_text('path,label\ntrain/img_00.png,cat\n')
    assert run(make_label_subset, cfg, '--csv', tmp_path / 'first.csv',
               '--out', tmp_path / 'labels.json') == 2
    assert '--classes FILE|a,b,c' in capsys.readouterr().err
    (tmp_path / 'classes.txt').write_text('cat\ndog\n\nowl\n')
    assert run(make_label_subset, cfg, '--classes', tmp_path / 'classes.txt', '--csv',
               tmp_path / 'first.csv', '--out', tmp_path / 'labels.json') == 0


# --- the test set and the crop of the few-label tools --------------------------------------

def test_a_csv_config_pool_is_never_the_test_set(nested, tmp_path, capsys):
    rows = ['path,label'] + [f'train/{c}/{i}.png,{c}' for c in CLASSES for i in range(6)]
    (nested / 'pool.csv').write_text('\n'.join(rows) + '\n')
    cfg = config(tmp_path, dict(type='CsvImageDataset', data_root=str(nested / 'pool.csv')))
    (tmp_path / 'labels.csv').write_text('path,label\ntrain/cat/0.png,cat\ntrain/dog/0.png,dog\n'
                                         'train/owl/0.png,owl\n')
    common = [cfg, 'random', '--labels', tmp_path / 'labels.csv', '--num-workers', '0', '--quiet']
    capsys.readouterr()
    assert run(train_few_labels, *common, '--out', tmp_path / 'r.json') == 2
    assert 'the pool can never be the test set' in capsys.readouterr().err
    assert not (tmp_path / 'r.json').exists()
    images(tmp_path / 'test', [f'{c}{i}.png' for c in CLASSES for i in range(2)], seed=9)
    (tmp_path / 'test.tsv').write_text('path\tlabel\n' + ''.join(
        f'test/{c}{i}.png\t{c}\n' for c in CLASSES for i in range(2)))
    assert run(train_few_labels, *common, '--test-data', tmp_path / 'test.tsv',
               '--out', tmp_path / 'r.json') == 0
    result = json.loads((tmp_path / 'r.json').read_text())
    assert result['n_test'] == 6 and result['n_labels'] == 3
    for c in CLASSES:  # a folder of class folders as the test set
        images(tmp_path / 'testdir' / c, ['0.png', '1.png'], seed=11)
    assert run(train_few_labels, *common, '--test-data', tmp_path / 'testdir',
               '--out', tmp_path / 'r3.json') == 0
    assert json.loads((tmp_path / 'r3.json').read_text())['n_test'] == 6
    # the labelled images themselves as the "test set": refused by resolved path
    assert run(train_few_labels, *common, '--test-data', nested / 'pool.csv',
               '--out', tmp_path / 'r2.json') == 2
    assert 'are in the pool' in capsys.readouterr().err
    # or a validation share of the labels
    (tmp_path / 'more.csv').write_text('path,label\n' + ''.join(
        f'train/{c}/{i}.png,{c}\n' for c in CLASSES for i in range(4)))
    assert run(train_few_labels, cfg, 'random', '--labels', tmp_path / 'more.csv',
               '--val-fraction', '0.25', '--num-workers', '0', '--quiet',
               '--out', tmp_path / 'v.json') == 0
    val = json.loads((tmp_path / 'v.json').read_text())
    assert val['n_labels'] == 9 and val['n_test'] == 3


def test_few_label_features_use_the_checkpoint_training_resolution(nested, tmp_path):
    from mmengine.config import Config

    from moco_plugin.cli.fewlabel_common import build_split
    cfg = Config.fromfile(config(tmp_path, dict(type='ImageFolderDataset', data_root=str(nested),
                                                split='train')))
    args = argparse.Namespace(data_root=None, subset_train=None, subset_test=None)
    _, pool_cfg = build_split(cfg, args, 'train')
    assert pool_cfg['pipeline'] == [dict(type='ResizeCenterCrop', size=32)]  # the config's, not 224
    checkpoint = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict={}, meta=dict(training_image_size=48)), checkpoint)
    _, pool_cfg = build_split(cfg, args, 'train', str(checkpoint))
    assert pool_cfg['pipeline'][0]['size'] == 48


def test_benchmark_reads_a_semicolon_test_table(tmp_path, capsys):
    from moco_plugin.cli import benchmark as benchmark_linear
    images(tmp_path / 'imgs', [f'{c}{i}.png' for c in CLASSES for i in range(3)], seed=3)
    (tmp_path / 'train.csv').write_text('Filename,ClassId\n' + ''.join(
        f'imgs/{c}{i}.png,{c}\n' for c in CLASSES for i in range(2)))
    (tmp_path / 'test.csv').write_text('Filename;Width;ClassId\n' + ''.join(
        f'imgs/{c}2.png;8;{c}\n' for c in CLASSES))
    out = tmp_path / 'result.json'
    assert run(benchmark_linear, BASE, 'random', '--train-data', tmp_path / 'train.csv',
               '--test-data', tmp_path / 'test.csv', '--csv-columns', 'Filename,ClassId', '--knn',
               '--k', '1', '--num-workers', '0', '--quiet', '--out', out) == 0
    assert json.loads(out.read_text())['dataset']['image_size'] == 32
