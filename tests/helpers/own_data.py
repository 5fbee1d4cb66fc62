"""A user's own data made of real CIFAR-10 images: a flat folder, a labels table, a test table.

The pool is a flat folder of 200 CIFAR-10 training images (20 per class) named
``img_000.jpg`` .. in a shuffled order, so neither folders nor names tell the class; the
labels table is what a spreadsheet writes (UTF-8 BOM, CRLF, columns in another order, an
extra column, a ``skip`` row); the test set is 100 CIFAR-10 test images in another folder,
listed in a ``;``-separated table. ``truth`` maps each pool file name to its class.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Dict

import numpy as np

CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship',
           'truck']
PER_CLASS, LABELLED_PER_CLASS, TEST_PER_CLASS = 20, 3, 10


def make_own_data(cifar_root: Path, out: Path) -> Dict[str, object]:
    pool, test = out / 'pool', out / 'test_images'
    pool.mkdir(parents=True)
    test.mkdir(parents=True)
    sources = [(c, cifar_root / 'train' / c / f'{i:04d}.jpg') for c in CLASSES
               for i in range(PER_CLASS)]
    order = np.random.default_rng(0).permutation(len(sources))
    truth = {}
    for n, k in enumerate(order):
        name = f'img_{n:03d}.jpg'
        shutil.copyfile(sources[k][1], pool / name)
        truth[name] = sources[k][0]
    classes_file = out / 'classes.txt'
    classes_file.write_text('\n'.join(CLASSES) + '\n')
    by_class = {c: sorted(n for n, t in truth.items() if t == c) for c in CLASSES}
    labelled = {n: c for c in CLASSES for n in by_class[c][:LABELLED_PER_CLASS]}
    skipped = by_class['cat'][LABELLED_PER_CLASS]
    rows = ['label,note,path'] + [f'{c},ok,{n}' for n, c in labelled.items()] + [
        f'skip,blurry,{skipped}']
    labels_csv = out / 'labels.csv'
    labels_csv.write_bytes(('\ufeff' + '\r\n'.join(rows) + '\r\n').encode('utf-8'))
    test_rows = ['Filename;Width;ClassId']
    for c in CLASSES:
        for i in range(TEST_PER_CLASS):
            name = f'{c}_{i}.jpg'
            shutil.copyfile(cifar_root / 'test' / c / f'{i:04d}.jpg', test / name)
            test_rows.append(f'test_images/{name};32;{c}')
    test_csv = out / 'test.csv'
    test_csv.write_text('\n'.join(test_rows) + '\n')
    return dict(pool=pool, classes_file=classes_file, labels_csv=labels_csv, test_csv=test_csv,
                truth=truth, labelled=labelled, skipped=skipped)
