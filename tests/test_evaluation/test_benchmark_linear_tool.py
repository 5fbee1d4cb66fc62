"""tools/benchmark_linear.py end to end on a small subset of the real CIFAR-10."""
import json

import pytest
import torch

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.utils import safe_torch_load
from tests.conftest import REPO_ROOT, run_tool

RANDOM_CONFIG = 'configs/random_init/random_init_resnet18_cifar10.py'
TINY = ['--subset-train', '60', '--subset-test', '30', '--num-workers', '0', '--batch-size', '32',
        '--cfg-options', 'model.backbone.cifar_stem=False']


def _exit_code(argv):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_cli.main(argv)
    return exit_info.value.code


def test_random_init_knn_linear_retrieval_then_cache_then_compare(cifar_root, tmp_path):
    out = tmp_path / 'results' / 'random.json'
    args = [RANDOM_CONFIG, 'random', '--data-root', str(cifar_root), '--k', '5', '200',
            '--linear-epochs', '3', '--retrieval', '2', '--out', str(out), *TINY]
    result = run_tool('tools/benchmark_linear.py', *args)
    assert result.returncode == 0, result.stderr[-3000:]
    first = json.loads(out.read_text())
    assert first['algorithm'] == 'RandomInit' and first['random_init_seed'] == 0
    assert (first['n_train'], first['n_test'], first['feature_dim']) == (60, 30, 512)
    assert set(first['knn']) == {'5', '200'} and first['knn']['200']['k_used'] == 60
    assert first['feature_cache_hit'] == dict(train=False, test=False)
    assert [c['epoch'] for c in first['linear']['curve']] == [1, 2, 3]
    assert first['linear']['settings']['lr'] == 30.0
    head = safe_torch_load(first['linear']['head_checkpoint'])
    assert head['state_dict']['weight'].shape == (10, 512)
    for png in (first['linear']['curve_png'], first['retrieval_png']):
        assert (tmp_path / 'results' / png.split('/')[-1]).stat().st_size > 1000
    row = result.stdout.strip().splitlines()[-1]
    assert row.startswith('| random_init_resnet18_cifar10 | RandomInit | 0 | 200 |')
    assert (tmp_path / 'results' / 'results.md').read_text().count('RandomInit') == 1

    # Same weights (seed 0), data and transform: features come from the cache, same numbers.
    assert _exit_code(args) == 0
    second = json.loads(out.read_text())
    assert second['feature_cache_hit'] == dict(train=True, test=True)
    assert second['knn'] == first['knn'] and second['weights_sha256'] == first['weights_sha256']
    assert second['linear']['top1'] == first['linear']['top1']
    assert second['linear']['lr_sweep'] is None

    # Several lrs: chosen on held-out training images (1 of the 6 per class), then retrained.
    swept_out = tmp_path / 'results' / 'swept.json'
    swept_args = [a if a != str(out) else str(swept_out) for a in args]
    assert _exit_code([*swept_args, '--linear-lr', '0.001', '30', '--linear-val-fraction',
                       '0.2']) == 0
    swept = json.loads(swept_out.read_text())['linear']
    sweep = swept['lr_sweep']
    assert sweep['candidates'] == [0.001, 30.0] and (sweep['n_fit'], sweep['n_val']) == (50, 10)
    scores = [s if s is not None else -1.0 for s in sweep['val_top1']]
    assert sweep['selected_lr'] == sweep['candidates'][scores.index(max(scores))]
    assert swept['settings']['lr'] == sweep['selected_lr']
    assert len(swept['curve']) == 3  # the retrained probe's curve, evaluated on the test split

    md, png = tmp_path / 'cmp.md', tmp_path / 'cmp.png'
    assert _exit_code(['--compare', str(out), '--out', str(md), '--plot', str(png)]) == 0
    assert '| random_init_resnet18_cifar10 | RandomInit |' in md.read_text()
    assert png.stat().st_size > 5000


@pytest.mark.parametrize('argv, message', [
    ([RANDOM_CONFIG, 'missing.pth'], 'checkpoint not found: missing.pth'),
    (['configs/nope.py', 'random'], 'config not found: configs/nope.py'),
    ([RANDOM_CONFIG, 'random', '--data-root', '{empty}'], 'CIFAR-10 not found'),
    (['--compare', 'no_such.json'], 'result file not found'),
])
def test_user_errors_are_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    argv = [a.replace('{empty}', str(tmp_path)) for a in argv]
    assert _exit_code(argv) == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if 'error:' in ln]
    assert len(errors) == 1 and message in errors[0]


@pytest.mark.parametrize('argv', [['--k', '0'], ['--temperature', '0'], ['--subset-test', '0'],
                                  ['--linear-schedule', 'linear'], ['--linear-lr', '1', '0'],
                                  ['--linear-val-fraction', '1'],
                                  ['--linear-aug', '--linear-lr', '1', '2']])
def test_bad_flags_are_refused(argv, capsys):
    assert _exit_code([RANDOM_CONFIG, 'random', *argv]) == 2
    assert 'error:' in capsys.readouterr().err


def test_random_init_weights_are_reproducible():
    from mmengine.config import Config
    from moco_plugin.evaluation import sha256_of_state_dict
    from moco_plugin.registry import MODELS
    cfg = Config.fromfile(str(REPO_ROOT / RANDOM_CONFIG))
    digests = []
    for _ in range(2):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        model.init_weights()
        digests.append(sha256_of_state_dict(model.backbone))
    assert digests[0] == digests[1]
