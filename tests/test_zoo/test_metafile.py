"""The metafile: schema, docs generated from it, registry coverage, adding project checkpoints."""
from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
import torch

from moco_plugin.cli.model_zoo import main as model_zoo_main
from moco_plugin.models import BaseSelfSupervisor
from moco_plugin.models.backbones.resnet import ResNet
from moco_plugin.registry import MODELS
from moco_plugin.zoo import download_checkpoint, load_zoo, read_metafile
from moco_plugin.zoo.docs import render_document, stale_message
from moco_plugin.zoo.entries import (BenchmarkNumbers, describe_backbone,
                                     metrics_from_benchmark)
from moco_plugin.utils.config_files import PACKAGED_CONFIGS
from moco_plugin.zoo.metafile import BUILTIN_METAFILE, dump_metafile, parse_metafile
from tests.conftest import REPO_ROOT

MODEL_ZOO_MD = REPO_ROOT / 'model_zoo.md'


def builtin_json() -> dict:
    return json.loads(BUILTIN_METAFILE.read_text(encoding='utf-8'))


def test_model_zoo_md_is_generated_from_the_metafile():
    assert stale_message(MODEL_ZOO_MD, read_metafile(BUILTIN_METAFILE)) is None


def test_metafile_is_in_canonical_form():
    text = BUILTIN_METAFILE.read_text(encoding='utf-8')
    assert text == dump_metafile(read_metafile(BUILTIN_METAFILE))


def test_official_releases_are_recorded_as_published():
    entries = {e.name: e for e in read_metafile(BUILTIN_METAFILE).models}
    base = 'https://dl.fbaipublicfiles.com/moco/moco_checkpoints/'
    expected = {
        'mocov1_resnet50_200e_in1k_official': ('moco_v1_200ep', 'b251726a', 60.6, 200),
        'mocov2_resnet50_200e_in1k_official': ('moco_v2_200ep', '59fd9945', 67.7, 200),
        'mocov2_resnet50_800e_in1k_official': ('moco_v2_800ep', 'a04e12f8', 71.1, 800),
    }
    for name, (stem, md5, linear, epochs) in expected.items():
        entry = entries[name]
        assert entry.url == f'{base}{stem}/{stem}_pretrain.pth.tar'
        assert (entry.md5_prefix, entry.linear_top1, entry.epochs) == (md5, linear, epochs)
        assert (entry.backbone, entry.batch_size, entry.source) == ('ResNet-50', 256, 'official')
        assert entry.knn_top1 is None  # not published: never invented


def test_every_config_and_config_folder_exists():
    zoo = read_metafile(BUILTIN_METAFILE)
    for entry in zoo.models:
        assert (PACKAGED_CONFIGS.parent / entry.config).is_file(), entry.config
    for algorithm in zoo.algorithms:
        assert (PACKAGED_CONFIGS.parent / algorithm.configs).is_dir(), algorithm.configs


def test_every_registered_algorithm_has_a_zoo_table():
    """A new algorithm in the registry needs an ``algorithms`` entry in the metafile."""
    registered = {name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, BaseSelfSupervisor)
                  and cls is not BaseSelfSupervisor}
    covered = {a.model_type for a in read_metafile(BUILTIN_METAFILE).algorithms}
    missing = registered - covered
    assert not missing, (f'add {sorted(missing)} to "algorithms" in moco_plugin/zoo/models.json, '
                         'then run python tools/model_zoo.py write')


@pytest.mark.parametrize('edit, message', [
    (lambda m: m.update(colour='red'), 'unknown field(s) colour'),
    (lambda m: m.pop('notes'), 'missing field(s) notes'),
    (lambda m: m.update(source='project', sha256=None), 'must record their full sha256'),
    (lambda m: m.update(md5_prefix='XYZ'), 'md5_prefix must be 8 to 32 lowercase hex digits'),
    (lambda m: m.update(linear_top1=0.711 * 1000), 'linear_top1 must be a percentage'),
    (lambda m: m.update(algorithm='MoCo v9'), "algorithm 'MoCo v9' is not one of"),
    (lambda m: m.update(name='Bad Name'), 'name must be lowercase'),
    (lambda m: m.update(url='s3://bucket/x.pth'), 'url must be http(s)://, file://'),
])
def test_schema_errors_name_the_field(edit, message):
    data = builtin_json()
    edit(data['models'][0])
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        parse_metafile(data, 'models.json')


def test_duplicate_names_are_refused():
    data = builtin_json()
    data['models'].append(dict(data['models'][0]))
    with pytest.raises(ValueError, match='duplicate model name'):
        parse_metafile(data, 'models.json')


def test_stale_document_is_detected(tmp_path):
    zoo = read_metafile(BUILTIN_METAFILE)
    changed = dataclasses.replace(zoo.models[0], linear_top1=1.5)
    zoo.models[0] = changed
    assert stale_message(MODEL_ZOO_MD, zoo) is not None
    assert '| 1.5 |' in render_document(MODEL_ZOO_MD.read_text(encoding='utf-8'), zoo)



def test_add_records_sha256_backbone_epochs_and_benchmark_numbers(zoo_copy, tmp_path, monkeypatch,
                                                                   capsys):
    metafile, doc = zoo_copy
    backbone = ResNet(depth=18, cifar_stem=True)
    checkpoint = tmp_path / 'epoch_200.pth'
    torch.save({'meta': {'epoch': 200}, 'state_dict': {f'backbone.{k}': v for k, v in
                                                        backbone.state_dict().items()}}, checkpoint)
    result = tmp_path / 'bench.json'
    result.write_text(json.dumps({  # the layout tools/benchmark_linear.py writes
        'checkpoint': str(checkpoint), 'knn': {'20': {'top1': 80.02, 'top5': 98.0, 'k_used': 20},
                                               '200': {'top1': 81.37, 'top5': 98.9, 'k_used': 200}},
        'linear': {'top1': 84.52, 'top5': 99.1, 'best_top1': 84.9, 'curve': [{'top1': 84.9}]},
        'knn_monitor': [{'epoch': 1, 'top1': 30.0}],
        'checkpoint_sha256': hashlib.sha256(checkpoint.read_bytes()).hexdigest()}))
    with pytest.raises(SystemExit) as code:
        model_zoo_main(['--metafile', str(metafile), '--doc', str(doc), 'add', str(checkpoint),
                        '--name', 'mocov2_resnet18_200e_cifar10', '--algorithm', 'MoCo v2',
                        '--config', 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py',
                        '--batch-size', '256', '--data', 'CIFAR-10 train',
                        '--eval-data', 'CIFAR-10 test', '--benchmark', str(result)])
    assert code.value.code == 0, capsys.readouterr().err

    entry = read_metafile(metafile).get('mocov2_resnet18_200e_cifar10')
    assert entry.sha256 == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert (entry.backbone, entry.epochs, entry.batch_size) == ('ResNet-18 (CIFAR stem)', 200, 256)
    assert (entry.knn_top1, entry.linear_top1) == (81.37, 84.52)  # k=200, last-epoch linear
    assert entry.metrics_source == 'tools/benchmark_linear.py result bench.json, k-NN k=200'
    assert entry.url == checkpoint.resolve().as_uri() and entry.source == 'project'
    assert entry.reproduce == ('python tools/train.py '
                               'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py')
    text = doc.read_text(encoding='utf-8')
    assert ('| `mocov2_resnet18_200e_cifar10` | project | ResNet-18 (CIFAR stem) | 200 | 256 |'
            in text)
    assert '| 81.4 | 84.5 | CIFAR-10 test |' in text
    assert stale_message(doc, read_metafile(metafile)) is None

    monkeypatch.setenv('MOCO_ZOO_FILES', '')  # the copy replaces the built-in file here
    monkeypatch.setattr('moco_plugin.zoo.metafile.BUILTIN_METAFILE', metafile)
    assert download_checkpoint('mocov2_resnet18_200e_cifar10') == checkpoint.resolve()


def test_add_refuses_numbers_measured_on_another_file(zoo_copy, tmp_path, capsys):
    metafile, doc = zoo_copy
    checkpoint = tmp_path / 'x.pth'
    torch.save({'meta': {'epoch': 1},
                'state_dict': {'backbone.conv1.weight': torch.zeros(64, 3, 3, 3)}}, checkpoint)
    result = tmp_path / 'bench.json'
    result.write_text(json.dumps({'linear': {'top1': 50.0}, 'checkpoint_sha256': 'ab' * 32}))
    with pytest.raises(SystemExit) as code:
        model_zoo_main(['--metafile', str(metafile), '--doc', str(doc), 'add', str(checkpoint),
                        '--name', 'x', '--algorithm', 'MoCo v2', '--backbone', 'ResNet-18',
                        '--config', 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py',
                        '--batch-size', '256', '--data', 'd', '--eval-data', 'e',
                        '--benchmark', str(result)])
    assert code.value.code == 2
    assert 'was measured on another file (sha256 abababababababab...' in capsys.readouterr().err
    assert metafile.read_bytes() == BUILTIN_METAFILE.read_bytes()


def test_add_refuses_existing_names(zoo_copy, tmp_path, capsys):
    metafile, doc = zoo_copy
    checkpoint = tmp_path / 'x.pth'
    torch.save({'meta': {'epoch': 1},
                'state_dict': {'backbone.conv1.weight': torch.zeros(64, 3, 3, 3)}}, checkpoint)
    with pytest.raises(SystemExit) as code:
        model_zoo_main(['--metafile', str(metafile), '--doc', str(doc), 'add', str(checkpoint),
                        '--name', 'mocov2_resnet50_800e_in1k_official', '--algorithm', 'MoCo v2',
                        '--config', 'configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py',
                        '--batch-size', '256', '--data', 'd', '--eval-data', 'e',
                        '--backbone', 'ResNet-18'])
    assert code.value.code == 2
    assert 'already has a checkpoint called' in capsys.readouterr().err
    assert metafile.read_bytes() == BUILTIN_METAFILE.read_bytes()


@pytest.mark.parametrize('result, knn_k, message', [
    ({'knn_top1': 0.81}, None, 'looks like a fraction, the zoo records percent; pass --knn-top1'),
    ({'knn': {'10': {'top1': 80.0}, '20': {'top1': 81.0}}}, None, 'choose one with --knn-k'),
    ({'knn': {'10': {'top1': 80.0}}}, 200, 'no k-NN result for k=200'),
    ({'linear': {'top1': 0.7}}, None, 'pass --linear-top1 in percent'),
])
def test_benchmark_results_are_not_guessed(tmp_path, result, knn_k, message):
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(result))
    with pytest.raises(ValueError, match=message):
        metrics_from_benchmark(path, knn_k)


@pytest.mark.parametrize('result, knn_k, expected', [
    ({'linear_top1': 70.25}, None, BenchmarkNumbers(None, 70.25, None)),
    ({'knn': {'10': {'top1': 80.5}, '20': {'top1': 81.0}}}, 10, BenchmarkNumbers(80.5, None, '10')),
    ({'knn': {'top1': 79.5}, 'linear': {'top1': 82.0}}, None, BenchmarkNumbers(79.5, 82.0, None)),
])
def test_benchmark_numbers_are_read(tmp_path, result, knn_k, expected):
    path = tmp_path / 'r.json'
    path.write_text(json.dumps(result))
    assert metrics_from_benchmark(path, knn_k) == expected


@pytest.mark.parametrize('depth, cifar, name', [(18, False, 'ResNet-18'),
                                                (50, True, 'ResNet-50 (CIFAR stem)')])
def test_backbone_is_named_from_its_weights(depth, cifar, name):
    backbone = ResNet(depth=depth, cifar_stem=cifar)
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    assert describe_backbone(state) == name


def test_builtin_zoo_loads_with_extra_files_merged(tmp_path, monkeypatch):
    extra = tmp_path / 'extra.json'
    data = builtin_json()
    data['models'] = [dict(data['models'][0], name='lab_copy')]
    extra.write_text(json.dumps(data))
    monkeypatch.setenv('MOCO_ZOO_FILES', str(extra))
    assert load_zoo().names()[-1] == 'lab_copy'
    data['models'][0]['name'] = 'mocov1_resnet50_200e_in1k_official'
    extra.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='duplicate model name'):
        load_zoo()


def test_model_zoo_tool_runs_as_a_script():
    from tests.conftest import run_tool
    result = run_tool('tools/model_zoo.py', 'check', timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'matches' in result.stdout
