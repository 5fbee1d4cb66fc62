"""Label subsets (balance, seed, file round trip, fingerprint) and the pseudo-label writer."""
import json

import numpy as np
import pytest
from PIL import Image

from moco_plugin.datasets import (ImageFolderDataset, LabelSubsetDataset, balanced_label_indices,
                                  balanced_label_set, dataset_fingerprint, read_label_file,
                                  write_label_file)
from moco_plugin.fewlabel import precision_coverage, pseudo_label


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / 'data'
    for c in ('cat', 'dog', 'owl'):
        (root / 'train' / c).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
                root / 'train' / c / f'{i}.png')
    return root


def test_balanced_indices_are_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 50)
    chosen = balanced_label_indices(labels, per_class=4, seed=3)
    assert np.bincount(labels[chosen]).tolist() == [4] * 10
    assert chosen.tolist() == balanced_label_indices(labels, per_class=4, seed=3).tolist()
    assert chosen.tolist() != balanced_label_indices(labels, per_class=4, seed=4).tolist()
    tenth = balanced_label_indices(labels, fraction=0.1)
    assert np.bincount(labels[tenth]).tolist() == [5] * 10
    with pytest.raises(ValueError, match='fewer than the 51 labels per class'):
        balanced_label_indices(labels, per_class=51)
    with pytest.raises(ValueError, match='exactly one'):
        balanced_label_indices(labels)


def test_label_file_round_trips_and_wraps_a_dataset(folder, tmp_path):
    dataset = ImageFolderDataset(str(folder), split='train')
    labels = balanced_label_set(dataset, per_class=2, seed=1)
    path = tmp_path / 'labels.json'
    write_label_file(labels, str(path))
    back = read_label_file(str(path), dataset)
    assert back.indices.tolist() == labels.indices.tolist()
    assert back.labels.tolist() == labels.labels.tolist()
    assert back.paths[0].startswith('train/') and back.fingerprint == dataset_fingerprint(dataset)
    wrapped = LabelSubsetDataset(dict(type='ImageFolderDataset', data_root=str(folder),
                                      split='train'), label_file=str(path))
    assert len(wrapped) == 6 and np.bincount(wrapped.labels).tolist() == [2, 2, 2]
    assert int(wrapped[0]['data_samples']['gt_label']) == int(labels.labels[0])


def test_a_file_for_another_dataset_or_unknown_images_is_refused(folder, tmp_path):
    dataset = ImageFolderDataset(str(folder), split='train')
    path = tmp_path / 'labels.json'
    write_label_file(balanced_label_set(dataset, per_class=1), str(path))
    Image.new('RGB', (8, 8)).save(folder / 'train' / 'owl' / 'extra.png')
    changed = ImageFolderDataset(str(folder), split='train')
    with pytest.raises(ValueError, match='made for another dataset'):
        read_label_file(str(path), changed)
    data = json.loads(path.read_text())
    data['items'][0]['path'] = 'train/cat/missing.png'
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='does not have'):
        read_label_file(str(path), dataset)


def test_csv_labels_name_images_by_relative_path(folder, tmp_path):
    dataset = ImageFolderDataset(str(folder), split='train')
    csv = tmp_path / 'labels.csv'
    csv.write_text('path,label\ntrain/dog/3.png,dog\ntrain/cat/0.png,0\n')
    labels = read_label_file(str(csv), dataset)
    assert labels.labels.tolist() == [1, 0]
    assert [dataset.get_label(int(i)) for i in labels.indices] == [1, 0]
    csv.write_text('path,label\ntrain/dog/99.png,dog\n')
    with pytest.raises(ValueError, match=r'1 image\(s\) not in the pool: line 2 \(train/dog/99.png\)'):
        read_label_file(str(csv), dataset)


PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.95, 0.05], [0.3, 0.7], [0.85, 0.15]])
TRUE = np.array([0, 1, 1, 0, 0, 0])


def test_pseudo_labels_respect_threshold_and_per_class_cap():
    kept = pseudo_label(PROBS, 0.7)
    assert kept.indices.tolist() == [0, 2, 3, 4, 5] and kept.labels.tolist() == [0, 1, 0, 1, 0]
    capped = pseudo_label(PROBS, 0.7, max_per_class=2)
    assert capped.indices.tolist() == [0, 2, 3, 4]  # class 0: the two most confident, 3 and 0
    assert pseudo_label(PROBS, 0.7, exclude=[3]).indices.tolist() == [0, 2, 4, 5]
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        pseudo_label(PROBS, 1.2)


def test_precision_and_coverage_equal_hand_computation():
    rows = precision_coverage(PROBS, TRUE, [0.5, 0.75, 0.99], exclude=[0])
    # pool: rows 1..5. t=0.5: all 5 kept; right: 2, 3, 5 (1 -> 0 wrong, 4 -> 1 wrong)
    assert rows[0]['kept'] == 5 and rows[0]['coverage'] == 1.0 and rows[0]['precision'] == 3 / 5
    # t=0.75: rows 2, 3, 5 kept, all right
    assert rows[1]['kept'] == 3 and rows[1]['coverage'] == 3 / 5 and rows[1]['precision'] == 1.0
    assert rows[2]['kept'] == 0 and np.isnan(rows[2]['precision'])


def test_csv_items_are_named_by_their_files(cifar_root, tmp_path):
    # A CSV dataset's items were named '<split>/<index>' and fingerprinted by labels alone,
    # so a label file made for one table was taken for another with the same labels.
    from moco_plugin.datasets import CsvImageDataset, image_ids
    from tests.helpers.dataset_formats import real_images
    tables = {}
    for name, split in (('a', 'train'), ('b', 'test')):
        images, labels = real_images(cifar_root, split, ['cat', 'dog'], 3)
        (tmp_path / name).mkdir()
        rows = ['path,label']
        for i, (image, label) in enumerate(zip(images, labels)):
            Image.fromarray(image).save(tmp_path / name / f'{i}.png')
            rows.append(f'{name}/{i}.png,{["cat", "dog"][label]}')
        (tmp_path / f'{name}.csv').write_text('\n'.join(rows) + '\n')
        tables[name] = CsvImageDataset(str(tmp_path / f'{name}.csv'))
    assert image_ids(tables['a'])[:2] == ['a/0.png', 'a/1.png']
    assert dataset_fingerprint(tables['a']) != dataset_fingerprint(tables['b'])
    path = tmp_path / 'labels.json'
    write_label_file(balanced_label_set(tables['a'], per_class=1, seed=0), str(path))
    assert read_label_file(str(path), tables['a']).paths[0].startswith('a/')
    with pytest.raises(ValueError, match='was made for another dataset'):
        read_label_file(str(path), tables['b'])
