"""select -> label -> train -> pseudo-label through the CLIs on a small real CIFAR-10 subset.

The tools run in-process (their ``main(argv)``, exit code checked) so that the five steps
share one import of torch: the whole chain takes seconds on random-init features.
"""
import json

import numpy as np
import pytest
import torch

from moco_plugin.cli import (active_learning, make_label_subset, pseudo_label, select_labels,
                             train_few_labels)

CONFIG = 'mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu'


def run(module, *argv):
    with pytest.raises(SystemExit) as exit_info:
        module.main(list(argv))
    return exit_info.value.code


@pytest.fixture
def data(cifar_root, tmp_path):
    return ['--data-root', str(cifar_root), '--subset-train', '200', '--subset-test', '100',
            '--num-workers', '0', '--quiet']


def test_select_train_pseudo_label_end_to_end(data, tmp_path, capsys):
    labels, selection = tmp_path / 'labels.json', tmp_path / 'selection.json'
    grown, pseudo = tmp_path / 'labels_30.json', tmp_path / 'pseudo.json'
    assert run(make_label_subset, CONFIG, '--per-class', '2', *data[:4], '--out', str(labels)) == 0
    first = json.loads(labels.read_text())
    assert np.bincount([i['label'] for i in first['items']]).tolist() == [2] * 10

    assert run(select_labels, CONFIG, 'random', '--labels', str(labels), '--budget', '10',
               '--strategy', 'hybrid', *data, '--out', str(selection)) == 0
    picked = json.loads(selection.read_text())
    assert picked['kind'] == 'selection' and len(picked['items']) == 10
    assert picked['meta']['strategy'] == 'hybrid' and picked['meta']['budget'] == 10
    # the precision of the features is recorded: auto at the CIFAR 32 px crop is fp32 on a CPU
    assert picked['meta']['precision']['requested'] == 'auto'
    assert picked['meta']['precision']['precision'] == 'fp32'
    assert not {i['index'] for i in picked['items']} & {i['index'] for i in first['items']}
    assert (tmp_path / 'selection.png').stat().st_size > 0

    assert run(make_label_subset, CONFIG, '--add', str(selection), '--labels', str(labels),
               *data[:4], '--out', str(grown)) == 0
    assert len(json.loads(grown.read_text())['items']) == 30

    result = tmp_path / 'linear.json'
    assert run(train_few_labels, CONFIG, 'random', '--labels', str(grown), *data,
               '--out', str(result)) == 0
    linear = json.loads(result.read_text())
    assert linear['n_labels'] == 30 and linear['n_test'] == 100
    assert linear['precision']['precision'] == 'fp32'
    assert 0 <= linear['top1'] <= linear['top5'] <= 100
    assert (tmp_path / 'linear_classifier.pth').is_file()

    assert run(pseudo_label, CONFIG, 'random', '--labels', str(grown), '--threshold', '0.2',
               '--max-per-class', '5', '--curve', *data, '--out', str(pseudo)) == 0
    kept = json.loads(pseudo.read_text())
    assert all(i['confidence'] >= 0.2 for i in kept['items'])
    assert max(np.bincount([i['label'] for i in kept['items']])) <= 5
    assert kept['meta']['teacher_weights_sha256']
    assert kept['meta']['precision']['device'] == 'cpu'
    assert not {i['index'] for i in kept['items']} & {i['index'] for i in
                                                     json.loads(grown.read_text())['items']}

    from_head = tmp_path / 'pseudo_head.json'
    assert run(pseudo_label, CONFIG, 'random', '--labels', str(grown), '--threshold', '0.2',
               '--teacher-head', str(tmp_path / 'linear_classifier.pth'), *data,
               '--out', str(from_head)) == 0
    assert json.loads(from_head.read_text())['meta']['teacher'].endswith('linear_classifier.pth')

    student = tmp_path / 'student.json'
    assert run(train_few_labels, CONFIG, 'random', '--labels', str(grown), '--pseudo-labels',
               str(pseudo), '--recipe', 'finetune_resnet18_1xb64-coslr-30e-bblr0.1_cifar10',
               '--epochs', '1', '--allow-same-teacher', *data, '--out', str(student)) == 0
    assert "the student's own backbone weights" in capsys.readouterr().err  # same random init
    tuned = json.loads(student.read_text())
    assert tuned['mode'] == 'finetune' and tuned['n_pseudo'] == len(kept['items'])


def test_bad_input_gets_one_line(data, tmp_path, capsys):
    labels = tmp_path / 'labels.json'
    assert run(make_label_subset, CONFIG, '--per-class', '2', *data[:4], '--out', str(labels)) == 0
    capsys.readouterr()
    common = [CONFIG, 'random', '--labels', str(labels), *data]
    assert run(select_labels, *common, '--budget', '500', '--strategy', 'random',
               '--out', str(tmp_path / 's.json')) == 2
    assert 'budget 500 must be between 1 and the 180 unlabelled' in capsys.readouterr().err
    assert run(select_labels, *common, '--budget', '5', '--strategy', 'uncertain',
               '--out', str(tmp_path / 's.json')) == 2
    assert 'unknown strategy' in capsys.readouterr().err
    assert run(select_labels, *common, '--budget', '5', '--strategy', 'entropy-threshold',
               '--threshold', 'entropy=1.5', '--out', str(tmp_path / 's.json')) == 2
    assert 'threshold must be in [0, 1]' in capsys.readouterr().err
    # the same file against another subset of CIFAR-10 (another dataset): refused
    other = [CONFIG, 'random', '--labels', str(labels), *data[:2], '--subset-train', '300',
             *data[4:]]
    assert run(select_labels, *other, '--budget', '5', '--strategy', 'random',
               '--out', str(tmp_path / 's.json')) == 2
    # (in-process, MMEngine's logger may complain about pytest's closed capture stream first)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith('select_labels.py: error: ') and 'was made for another dataset' in last
    assert not (tmp_path / 's.json').exists()  # nothing half written
    five_classes = tmp_path / 'five.pth'
    torch.save(dict(state_dict=dict(weight=torch.zeros(5, 512), bias=torch.zeros(5)), meta={}),
               five_classes)
    assert run(pseudo_label, *common, '--threshold', '0.5', '--teacher-head', str(five_classes),
               '--out', str(tmp_path / 'p.json')) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert 'has 5 classes but the dataset has 10' in last and not (tmp_path / 'p.json').exists()


def test_active_learning_study_writes_rounds_table_and_plot(data, tmp_path):
    out = tmp_path / 'al'
    assert run(active_learning, '--model', 'rand', CONFIG, 'random', '--strategies', 'random',
               'margin', '--seeds', '0', '1', '--schedule', '10', '20', *data,
               '--out-dir', str(out)) == 0
    study = json.loads((out / 'active_learning.json').read_text())
    runs = study['models']['rand']['runs']
    assert [[r['labels'] for r in seed] for seed in runs['margin']] == [[10, 20], [10, 20]]
    summary = study['models']['rand']['summary']['random'][1]
    assert np.isclose(summary['mean'], np.mean([seed[1]['top1'] for seed in runs['random']]))
    assert '| margin |' in (out / 'active_learning.md').read_text()
    assert (out / 'active_learning_rand.png').stat().st_size > 0
