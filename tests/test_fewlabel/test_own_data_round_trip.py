"""The whole own-data flow through the CLIs, on a flat folder of CIFAR-10 images.

No class folders, a spreadsheet's labels table (BOM, CRLF, other column order, a skip
row), TypiClust picks, a Label Studio export written by the real Label Studio
(tests/fixtures/label_studio/), the merge, a linear probe tested on a separate
``;``-separated table, and pseudo-labels from a second checkpoint. Every file's numbers
are checked: counts, labels equal to the export's, no test image in the pool.
"""
import csv
import json
import os
from pathlib import Path

import pytest
import torch

from moco_plugin.cli import (label_studio, make_label_subset, pseudo_label, select_labels,
                             train_few_labels)
from tests.helpers.own_data import CLASSES, make_own_data

CONFIG = 'mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu'
FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures' / 'label_studio'


def run(module, *argv):
    with pytest.raises(SystemExit) as exit_info:
        module.main([str(a) for a in argv])
    return exit_info.value.code


def other_checkpoint(path: Path) -> None:
    """A second, different backbone: the config's model at random init with seed 1."""
    from mmengine.config import Config

    from moco_plugin.registry import MODELS
    from moco_plugin.utils.config_files import find_config
    from moco_plugin.utils.quiet import quiet_mmengine
    torch.manual_seed(1)
    model = MODELS.build(Config.fromfile(str(find_config(CONFIG))).model)
    with quiet_mmengine():
        model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)


def items(path: Path):
    return json.loads(path.read_text())


def test_own_data_round_trip(cifar_root, tmp_path, monkeypatch):
    data = make_own_data(cifar_root, tmp_path)
    monkeypatch.chdir(tmp_path)
    pool = ['--pool', 'pool', '--num-workers', '0', '--quiet']

    # 1. the user's labels table -> label file (class list given once)
    assert run(make_label_subset, CONFIG, '--pool', 'pool', '--classes', data['classes_file'],
               '--csv', data['labels_csv'], '--out', 'labels.json') == 0
    first = items(tmp_path / 'labels.json')
    assert first['classes'] == CLASSES and len(first['items']) == 30
    assert {i['path']: CLASSES[i['label']] for i in first['items']} == data['labelled']
    assert [s['path'] for s in first['skipped']] == [data['skipped']]

    # 2. 20 picks by TypiClust, never a labelled or skipped image
    assert run(select_labels, CONFIG, 'random', '--labels', 'labels.json', '--budget', 20,
               '--strategy', 'typiclust', *pool, '--out', 'pick.json') == 0
    picks = items(tmp_path / 'pick.json')['items']
    assert len(picks) == 20
    assert not {p['path'] for p in picks} & (set(data['labelled']) | {data['skipped']})

    # 3. export for labelling: a CSV of absolute paths and Label Studio tasks
    assert run(label_studio, 'export', CONFIG, 'pick.json', '--pool', 'pool', '--csv', 'pick.csv',
               '--tasks', 'tasks.json', '--url-prefix', '/data/local-files/?d=pool/') == 0
    with open(tmp_path / 'pick.csv') as handle:
        rows = list(csv.DictReader(handle))
    assert [r['pool_path'] for r in rows] == [p['path'] for p in picks]
    assert all(os.path.isabs(r['path']) and os.path.isfile(r['path']) for r in rows)
    tasks = items(tmp_path / 'tasks.json')
    assert [t['data']['path'] for t in tasks] == [p['path'] for p in picks]
    assert tasks[0]['data']['image'] == '/data/local-files/?d=pool/' + picks[0]['path']

    # 4. the committed Label Studio exports back into a labels table (JSON carries skips)
    assert run(label_studio, 'import', FIXTURES / 'export.json', '--out', 'new.csv') == 0
    assert run(label_studio, 'import', FIXTURES / 'export.csv', '--out', 'new_csv.csv') == 0
    exported = {}
    for task in items(FIXTURES / 'export.json'):
        done = [a for a in task['annotations'] if not a['was_cancelled']]
        if done:
            exported[task['data']['path']] = done[0]['result'][0]['value']['choices'][0]
        elif task['annotations']:
            exported[task['data']['path']] = 'skip'
    with open(tmp_path / 'new.csv') as handle:
        imported = {r['path']: r['label'] for r in csv.DictReader(handle)}
    with open(tmp_path / 'new_csv.csv') as handle:
        from_csv = {r['path']: r['label'] for r in csv.DictReader(handle)}
    assert imported == exported and len(imported) == 16
    assert from_csv == {p: c for p, c in exported.items() if c != 'skip'}

    # 5. merge into the current label file
    assert run(make_label_subset, CONFIG, '--pool', 'pool', '--add', 'pick.json', '--csv',
               'new.csv', '--labels', 'labels.json', '--out', 'labels_2.json') == 0
    merged = items(tmp_path / 'labels_2.json')
    labels = {i['path']: CLASSES[i['label']] for i in merged['items']}
    assert len(labels) == 30 + 14 and len(merged['skipped']) == 1 + 2
    assert all(labels[p] == c for p, c in exported.items() if c != 'skip')
    assert all(labels[p] == c for p, c in data['labelled'].items())
    assert all(data['truth'][p] == c for p, c in labels.items())  # the export was true classes

    # 6. a linear probe tested on the separate ;-separated table
    assert run(train_few_labels, CONFIG, 'random', '--labels', 'labels_2.json', *pool,
               '--test-data', data['test_csv'], '--csv-columns', 'Filename,ClassId',
               '--out', 'linear.json') == 0
    linear = items(tmp_path / 'linear.json')
    assert linear['n_labels'] == 44 and linear['n_test'] == 100
    assert 0 <= linear['top1'] <= linear['top5'] <= 100
    test_files = {os.path.realpath(tmp_path / 'test_images' / n)
                  for n in os.listdir(tmp_path / 'test_images')}
    assert len(test_files) == 100
    assert not test_files & {os.path.realpath(p) for p in (tmp_path / 'pool').iterdir()}

    # 7. pseudo-labels from another checkpoint, never on labelled or skipped images
    other_checkpoint(tmp_path / 'other.pth')
    assert run(pseudo_label, CONFIG, tmp_path / 'other.pth', '--labels', 'labels_2.json', *pool,
               '--threshold', '0.0', '--out', 'pseudo.json') == 0
    pseudo = items(tmp_path / 'pseudo.json')
    assert len(pseudo['items']) == 200 - 44 - 3
    assert not {i['path'] for i in pseudo['items']} & (set(labels) |
                                                       {s['path'] for s in merged['skipped']})
    assert pseudo['meta']['teacher_weights_sha256'] != items(tmp_path / 'pick.json')['meta'][
        'embedding_weights_sha256']
    assert run(label_studio, 'export', CONFIG, 'pseudo.json', '--pool', 'pool', '--tasks',
               'pseudo_tasks.json') == 0
    first_task = items(tmp_path / 'pseudo_tasks.json')[0]
    prediction = first_task['predictions'][0]
    assert prediction['result'][0]['value']['choices'][0] == CLASSES[pseudo['items'][0]['label']]
    assert prediction['score'] == pytest.approx(pseudo['items'][0]['confidence'])
