"""Pseudo-label rules of the source report: criteria, count / quantile cuts, a precision target
estimated by cross-validation, a teacher other than the student, the k-NN entropy ceiling."""
import json
import math

import numpy as np
import pytest

from moco_plugin.cli import make_label_subset, pseudo_label as pseudo_label_cli, train_few_labels
from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.fewlabel import (Teacher, certainty, check_different_teacher,
                                  cross_validated_probs, entropy, max_knn_entropy,
                                  precision_curve, pseudo_label, threshold_for_precision)
from moco_plugin.fewlabel.pseudo_labels import cut_value, pseudo_label_warnings
from moco_plugin.fewlabel.strategies import knn_entropy_warning

PROBS = np.array([[0.9, 0.1, 0.0], [0.5, 0.4, 0.1], [0.2, 0.7, 0.1], [0.6, 0.2, 0.2],
                  [0.1, 0.1, 0.8]])


def test_certainty_criteria_by_hand():
    assert np.allclose(certainty(PROBS, 'confidence'), [0.9, 0.5, 0.7, 0.6, 0.8])
    assert np.allclose(certainty(PROBS, 'margin'), [0.8, 0.1, 0.5, 0.4, 0.7])

    def h(p):
        return -sum(x * math.log(x) for x in p if x > 0) / math.log(3)
    assert np.allclose(certainty(PROBS, 'entropy'), [1 - h(p) for p in PROBS])
    with pytest.raises(ValueError, match='unknown criterion'):
        certainty(PROBS, 'typicality')


def test_count_and_quantile_keep_the_same_number_per_criterion():
    # confidence order 0 (.9), 4 (.8), 2 (.7), 3, 1; margin 0 (.8), 4 (.7), 2 (.5), 3, 1
    kept = pseudo_label(PROBS, count=2, criteria=('confidence', 'margin'))
    assert kept.indices.tolist() == [0, 4]
    assert kept.thresholds == dict(confidence=0.8, margin=pytest.approx(0.7))
    # excluded images do not count: the two best of rows 1..4
    assert pseudo_label(PROBS, count=2, exclude=[0]).indices.tolist() == [2, 4]
    assert pseudo_label(PROBS, quantile=0.6).indices.tolist() == [0, 2, 4]  # ceil(3.0)
    assert cut_value(np.array([0.3, 0.5, 0.5, 0.1]), count=2) == 0.5  # ties: all kept
    assert cut_value(np.array([0.3, 0.5]), count=5) == 0.3
    with pytest.raises(ValueError, match='exactly one of threshold, count and quantile'):
        pseudo_label(PROBS, 0.5, count=2)
    # the threshold by value still means the max probability by default
    assert pseudo_label(PROBS, 0.7).indices.tolist() == [0, 2, 4]


def test_threshold_for_a_target_precision_by_hand():
    # held-out predictions: confidences .95 (right) .9 (right) .8 (wrong) .7 (right) .6 (wrong)
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    truth = np.array([0, 0, 0, 0, 0])
    curve = precision_curve(probs, truth)
    assert np.allclose(curve['threshold'], [0.95, 0.9, 0.8, 0.7, 0.6])
    assert np.allclose(curve['precision'], [1, 1, 2 / 3, 3 / 4, 3 / 5])
    assert threshold_for_precision(probs, truth, 0.9, min_support=1)['threshold'] == 0.9
    low = threshold_for_precision(probs, truth, 0.7, min_support=1)
    assert low == dict(threshold=0.7, precision=0.75, coverage=0.8)
    with pytest.raises(ValueError, match=r'no threshold reaches precision 0.9 .*\(best 0.750'):
        threshold_for_precision(probs, truth, 0.9, min_support=3)


def test_cross_validation_predicts_each_image_by_a_teacher_that_did_not_see_it():
    rng = np.random.default_rng(0)
    noise = FeatureSet(rng.normal(size=(100, 16)).astype(np.float32), np.repeat(np.arange(10), 10))
    # in sample, a k-NN teacher finds each image itself: 100 % on random labels
    bank = Teacher('knn', 10, bank=noise)
    assert (bank.probabilities(noise.features).argmax(1) == noise.labels).mean() == 1.0
    held_out = cross_validated_probs('knn', noise, 10, folds=5)
    assert held_out.shape == (100, 10) and (held_out.argmax(1) == noise.labels).mean() < 0.35
    features = noise.features.copy()
    features[np.arange(100), noise.labels] += 6.0  # separable: held out, still right
    clean = cross_validated_probs('knn', FeatureSet(features, noise.labels), 10, folds=5)
    assert (clean.argmax(1) == noise.labels).mean() > 0.9
    with pytest.raises(ValueError, match='lower --folds'):
        cross_validated_probs('knn', FeatureSet(features[:3], noise.labels[:3]), 10, folds=5)


def test_the_same_teacher_is_refused_unless_allowed():
    assert check_different_teacher('a' * 64, 'b' * 64) is None
    assert check_different_teacher(None, 'b' * 64) is None
    with pytest.raises(ValueError, match="student's own backbone weights.*--allow-same-teacher"):
        check_different_teacher('a' * 64, 'a' * 64)
    assert check_different_teacher('a' * 64, 'a' * 64, allow_same=True).startswith('WARNING')


def test_knn_entropy_ceiling_and_the_warnings():
    assert np.isclose(max_knn_entropy(20, 800), math.log(20) / math.log(800))
    assert max_knn_entropy(20, 10) == 1.0
    rng = np.random.default_rng(0)
    bank = FeatureSet(rng.normal(size=(200, 8)).astype(np.float32), rng.integers(0, 50, 200))
    teacher = Teacher('knn', 50, bank=bank, k=5, temperature=10.0)  # as flat as it gets
    probs = teacher.probabilities(rng.normal(size=(300, 8)).astype(np.float32))
    assert entropy(probs).max() <= max_knn_entropy(5, 50) + 1e-9
    assert entropy(probs).max() > 0.9 * max_knn_entropy(5, 50)
    assert 'can pass nothing' in knn_entropy_warning(dict(entropy=0.5), 'entropy-threshold', 5, 50)
    assert knn_entropy_warning(dict(entropy=0.3), 'entropy-threshold', 5, 50) is None
    assert knn_entropy_warning(dict(entropy=0.5), 'entropy-threshold', None, 50) is None
    nothing = pseudo_label(probs, 0.99)
    assert 'pass none of the 300' in pseudo_label_warnings(probs, nothing, ['confidence'])[0]
    floor = 1 - max_knn_entropy(5, 50)
    everything = pseudo_label(probs, floor - 0.01, criteria=['entropy'])
    assert len(everything.indices) == 300
    assert 'passes every image' in pseudo_label_warnings(probs, everything, ['entropy'],
                                                         knn_neighbours=5)[0]
    json.dumps(everything.thresholds)  # goes into the file's meta


def run(module, *argv):
    with pytest.raises(SystemExit) as exit_info:
        module.main(list(argv))
    return exit_info.value.code


def test_pseudo_label_cli_cuts_target_precision_and_same_teacher(cifar_root, tmp_path, capsys):
    config = 'mocov2_resnet18_1xb64-adamw-coslr-6e_cifar10-cpu'
    data = ['--data-root', str(cifar_root), '--subset-train', '200', '--subset-test', '100',
            '--num-workers', '0', '--quiet']
    labels, out = tmp_path / 'labels.json', tmp_path / 'pseudo.json'
    assert run(make_label_subset, config, '--per-class', '5', *data[:4], '--out', str(labels)) == 0
    common = [config, 'random', '--labels', str(labels), *data, '--out', str(out)]
    assert run(pseudo_label_cli, *common, '--threshold', '0.2', '--student', 'random') == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "student's own backbone weights" in last and not out.exists()
    assert run(pseudo_label_cli, *common, '--count', '30', '--criteria', 'confidence',
               'margin') == 0
    kept = json.loads(out.read_text())
    applied = kept['meta']['thresholds_applied']
    assert 0 < len(kept['items']) <= 30 and set(applied) == {'confidence', 'margin'}
    assert all(i['confidence'] >= applied['confidence'] for i in kept['items'])
    # the student is the teacher's own random init: refused, one line naming the way out
    result = tmp_path / 'student.json'
    assert run(train_few_labels, config, 'random', '--labels', str(labels), '--pseudo-labels',
               str(out), *data, '--out', str(result)) == 2
    assert '--allow-same-teacher' in capsys.readouterr().err.strip().splitlines()[-1]
    assert not result.exists()
    assert run(pseudo_label_cli, *common, '--teacher', 'knn', '--target-precision', '0.05') == 0
    meta = json.loads(out.read_text())['meta']
    assert meta['cross_validation']['folds'] == 5 and meta['target_precision'] == 0.05
    assert meta['cross_validation']['precision'] >= 0.05
    assert meta['thresholds_applied']['confidence'] == meta['cross_validation']['threshold']
    assert run(pseudo_label_cli, *common, '--target-precision', '0.999') == 2
    assert 'no threshold reaches precision 0.999' in capsys.readouterr().err
