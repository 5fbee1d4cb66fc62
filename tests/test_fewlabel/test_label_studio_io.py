"""Label Studio interchange: tasks, labelling interface, imports of the real exports."""
import json
from pathlib import Path

import pytest

from moco_plugin.datasets.label_studio import (label_studio_tasks, labelling_config,
                                               read_label_studio_csv, read_label_studio_json)

FIXTURES = Path(__file__).resolve().parents[1] / 'fixtures' / 'label_studio'


def test_tasks_carry_pool_path_and_predictions_with_confidence():
    rows = [dict(abs_path='/d/pool/a b.jpg', path='a b.jpg', index=3, label='cat', confidence=0.8,
                 score=None),
            dict(abs_path='/d/pool/c.jpg', path='c.jpg', index=4, label='', confidence=None,
                 score=1.5)]
    tasks = label_studio_tasks(rows, url_prefix='http://host/img/')
    assert tasks[0]['data'] == dict(image='http://host/img/a%20b.jpg', path='a b.jpg', index=3)
    assert tasks[0]['predictions'][0]['score'] == 0.8
    assert tasks[0]['predictions'][0]['result'][0]['value'] == dict(choices=['cat'])
    assert 'predictions' not in tasks[1]
    assert label_studio_tasks(rows)[1]['data']['image'] == '/d/pool/c.jpg'
    xml = labelling_config(['cat', 'd"og'])
    assert '<Choice value="cat"/>' in xml and '<Choice value=\'d"og\'/>' in xml


def test_real_exports_read_back():
    from_json = read_label_studio_json(str(FIXTURES / 'export.json'))
    from_csv = read_label_studio_csv(str(FIXTURES / 'export.csv'))
    assert len(from_json) == 16 and sum(i['label'] == 'skip' for i in from_json) == 2
    assert from_csv == [i for i in from_json if i['label'] != 'skip']
    tasks = json.loads((FIXTURES / 'tasks.json').read_text())
    assert {i['path'] for i in from_json} <= {t['data']['path'] for t in tasks}


def test_disagreeing_annotations_and_unknown_images_are_refused(tmp_path):
    tasks = json.loads((FIXTURES / 'export.json').read_text())
    second = json.loads(json.dumps(tasks[0]['annotations'][0]))
    second['result'][0]['value']['choices'] = ['ship']
    tasks[0]['annotations'].append(second)
    path = tmp_path / 'export.json'
    path.write_text(json.dumps(tasks))
    with pytest.raises(ValueError, match=r'annotations disagree on task\(s\) 1 \(bird, ship\)'):
        read_label_studio_json(str(path))
    del tasks[0]['annotations'][1], tasks[0]['data']['path']
    path.write_text(json.dumps(tasks))
    assert read_label_studio_json(str(path), url_prefix='/data/local-files/?d=pool/')[0] == dict(
        path=tasks[0]['data']['image'].split('pool/')[1], label='bird')
    with pytest.raises(ValueError, match='neither an existing absolute path nor under --url-prefix'):
        read_label_studio_json(str(path))
    path.write_text('{"not": "tasks"}')
    with pytest.raises(ValueError, match='is not a Label Studio JSON export'):
        read_label_studio_json(str(path))
