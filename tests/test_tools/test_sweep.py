"""tools/sweep.py: spec expansion, checks before any run, skipping finished runs, a real tiny sweep."""
import json
from pathlib import Path

import pytest

from moco_plugin.cli import sweep as sweep_cli
from moco_plugin.experiments import sweep as sweep_experiment, sweep_runs
from moco_plugin.experiments.sweep_table import table
from moco_plugin.experiments.sweep_spec import check_runs, expand, load_spec
from tests.conftest import run_tool

CONFIG = 'mocov2_resnet18_1xb256-coslr-200e_cifar10'
SMALL = {'train_dataloader.batch_size': 16, 'train_dataloader.dataset.subset_size': 64,
         'train_dataloader.num_workers': 0, 'model.bn_splits': 1, 'model.backbone.cifar_stem': False,
         'train_cfg.max_epochs': 1, 'default_hooks.checkpoint.interval': 1}


def _spec(tmp_path, **fields) -> Path:
    # 64 images: K=64 is the whole set, allowed here (the fraction check has its own test)
    data = dict(name='k', config=CONFIG, cfg_options=SMALL, sweep={'model.queue_len': [32, 64]},
                seeds=[0], max_queue_fraction=1.0)
    data.update(fields)
    path = tmp_path / 'spec.json'
    path.write_text(json.dumps(data))
    return path


def test_expansion_is_the_product_of_values_times_seeds(tmp_path):
    spec = load_spec(_spec(tmp_path, sweep={'model.queue_len': [32, 64],
                                            'model.momentum': [0.9, 0.99]}, seeds=[0, 1]))
    runs = expand(spec)
    assert len(runs) == 8
    assert runs[0].run_id == 'queue_len=32_momentum=0.9_seed0'
    assert runs[-1].run_id == 'queue_len=64_momentum=0.99_seed1'
    assert runs[3].cfg_options == {**SMALL, 'model.queue_len': 32, 'model.momentum': 0.99,
                                   'randomness.seed': 1}
    assert spec.x == 'model.queue_len'


def test_variants_set_several_keys_per_point_and_cross_the_sweep(tmp_path):
    variants = {'cifar-32px': {'model.backbone.cifar_stem': True},
                'in-224px': {'model.data_preprocessor.batch_augment.size': 224,
                             'train_dataloader.dataset.subset_size': 32}}
    spec = load_spec(_spec(tmp_path, variants=variants, sweep={'model.momentum': [0.9, 0.99]}))
    runs = expand(spec)
    assert [r.run_id for r in runs] == [
        'variant=cifar-32px_momentum=0.9_seed0', 'variant=cifar-32px_momentum=0.99_seed0',
        'variant=in-224px_momentum=0.9_seed0', 'variant=in-224px_momentum=0.99_seed0']
    assert runs[2].values == {'variant': 'in-224px', 'model.momentum': 0.9}
    assert runs[2].cfg_options == {**SMALL, 'model.data_preprocessor.batch_augment.size': 224,
                                   'train_dataloader.dataset.subset_size': 32,
                                   'model.momentum': 0.9, 'randomness.seed': 0}
    assert spec.x == 'variant' and spec.value_keys == ['variant', 'model.momentum']
    only = load_spec(_spec_without_sweep(tmp_path, variants=variants))
    assert [r.run_id for r in expand(only)] == ['variant=cifar-32px_seed0', 'variant=in-224px_seed0']
    summaries = [dict(values=r.values, knn_top1=30.0 + i, iters=4, images_per_s=10.0,
                      train_wall_s=1.0) for i, r in enumerate(expand(only))]
    rows = table(only, summaries).splitlines()
    assert rows[0].startswith('| variant | n | k-NN top-1 mean | std | 95 % interval | per seed |')
    assert rows[3].startswith('| in-224px | 1 | 31.00 | - | - | 31.00 |')


@pytest.mark.parametrize('variants, message', [
    ({}, 'non-empty dict'), ({'a': {}}, 'non-empty dict'),
    ({'two words': {'model.momentum': 0.9}}, 'name run folders')])
def test_bad_variants_are_refused(tmp_path, variants, message):
    with pytest.raises(ValueError, match=message):
        load_spec(_spec_without_sweep(tmp_path, variants=variants))
    with pytest.raises(ValueError, match=r'variants set keys the sweep also sets \(a: '
                                         r'model.queue_len\); set each key in one place'):
        load_spec(_spec(tmp_path, variants={'a': {'model.queue_len': 128}}))


def _spec_without_sweep(tmp_path, **fields) -> Path:
    path = _spec(tmp_path, **fields)
    data = json.loads(path.read_text())
    del data['sweep']
    path.write_text(json.dumps(data))
    return path


def test_invalid_runs_are_refused_before_any_starts(tmp_path, monkeypatch):
    spec = load_spec(_spec(tmp_path, sweep={'model.queue_len': [24, 64, 128]}))
    # 64 images, batch 16, 1 epoch: 64 keys seen; 24 is no multiple of 16, 128 > 64.
    problems = check_runs(spec, expand(spec), count_dataset=lambda cfg: 64)
    assert problems == [
        'queue_len=24_seed0: queue_len 24 is not a multiple of the 16 keys enqueued per step',
        'queue_len=128_seed0: queue_len 128 is larger than the 64 images seen in training '
        '(part of the queue would stay random)']
    monkeypatch.setattr(sweep_experiment, 'run_one', lambda *a: pytest.fail('a run started'))
    monkeypatch.setattr(sweep_experiment, 'count_dataset', lambda cfg: 64)
    with pytest.raises(ValueError, match='2 invalid run'):
        sweep_cli.sweep(sweep_cli.parse_args([str(tmp_path / 'spec.json')]))


def test_bad_spec_is_a_one_line_error(tmp_path):
    path = _spec(tmp_path, sweeps={'x': [1]})
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['sweeps'\]"):
        load_spec(path)
    with pytest.raises(ValueError, match=r"missing field\(s\) \['sweep \(or variants\)'\]"):
        load_spec(_spec_without_sweep(tmp_path))


def test_finished_runs_are_skipped(tmp_path, monkeypatch):
    spec = load_spec(_spec(tmp_path))
    run = expand(spec)[0]
    done = tmp_path / 'work' / 'k' / run.run_id / 'run.json'
    done.parent.mkdir(parents=True)
    done.write_text(json.dumps(dict(run_id=run.run_id, knn_top1=12.5)))
    monkeypatch.setattr(sweep_runs.subprocess, 'call', lambda *a, **k: pytest.fail('retrained'))
    assert sweep_runs.run_one(spec, run, tmp_path / 'work', None)['knn_top1'] == 12.5


def test_tiny_sweep_through_the_cli_writes_table_and_plot(cifar_root, tmp_path):
    spec = _spec(tmp_path, benchmark=['--knn', '--k', '5', '--subset-train', '100',
                                      '--subset-test', '50', '--num-workers', '0'])
    out = tmp_path / 'page' / 'k.md'
    result = run_tool('tools/sweep.py', str(spec), '--work-root', str(tmp_path / 'work'),
                      '--out', str(out), '--data-root', str(Path(cifar_root).resolve()))
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    rows = [ln for ln in text.splitlines() if ln.startswith('| 32 ') or ln.startswith('| 64 ')]
    assert len(rows) == 2 and all('| 1 |' in r and '| 4 |' in r for r in rows)  # 1 seed, 4 iters
    assert out.with_suffix('.png').stat().st_size > 3000
    again = run_tool('tools/sweep.py', str(spec), '--work-root', str(tmp_path / 'work'),
                     '--out', str(out), '--data-root', str(Path(cifar_root).resolve()))
    # one row per point (a cell such as images/s = 32 must not count: rows start with the value)
    assert again.returncode == 0
    assert sum(ln.startswith('| 32 ') for ln in out.read_text().splitlines()) == 1


def test_seeds_option_restricts_the_runs_to_those_seeds(tmp_path, capsys):
    spec = _spec(tmp_path, seeds=[0, 1, 2])
    sweep_cli.sweep(sweep_cli.parse_args([str(spec), '--dry-run', '--seeds', '1']))
    listed = [ln.split(':')[0] for ln in capsys.readouterr().out.splitlines() if '_seed' in ln]
    assert listed == ['queue_len=32_seed1', 'queue_len=64_seed1']


def test_a_run_with_the_same_config_in_another_spec_is_reused(tmp_path, monkeypatch):
    first = load_spec(_spec(tmp_path))
    run = expand(first)[0]
    cfg = sweep_runs.run_config(first, run)
    done = tmp_path / 'work' / 'k' / run.run_id / 'run.json'
    done.parent.mkdir(parents=True)
    identity = sweep_runs.run_identity(cfg, first, None)
    done.write_text(json.dumps(dict(run_id=run.run_id, identity=identity, source='k/x',
                                    knn_top1=12.5)))
    # The same point reached through another key: the queue length set in cfg_options.
    (tmp_path / 'other').mkdir()
    other = load_spec(_spec(tmp_path / 'other', name='m', sweep={'model.momentum': [0.99]},
                            cfg_options={**SMALL, 'model.queue_len': 32}))
    monkeypatch.setattr(sweep_runs.subprocess, 'call', lambda *a, **k: pytest.fail('retrained'))
    reused = sweep_runs.run_one(other, expand(other)[0], tmp_path / 'work', None)
    assert reused['knn_top1'] == 12.5 and reused['run_id'] == 'momentum=0.99_seed0'
    assert (tmp_path / 'work' / 'm' / 'momentum=0.99_seed0' / 'run.json').is_file()
    # A different data root is a different run.
    different = load_spec(_spec(tmp_path / 'other', name='d'))
    monkeypatch.setattr(sweep_runs, '_run_logged', lambda *a: (_ for _ in ()).throw(RuntimeError('trains')))
    with pytest.raises(RuntimeError, match='trains'):
        sweep_runs.run_one(different, expand(different)[0], tmp_path / 'work', '/elsewhere')


def test_loss_curves_are_read_from_each_runs_log_and_plotted(tmp_path):
    from moco_plugin.experiments.sweep_plots import plot_loss_curves, training_losses
    for run, losses in (('bn_splits=4_seed0', [6.0, 5.5, 5.2]), ('bn_splits=1_seed0', [6.0, 4.0, 2.0])):
        log = tmp_path / 'shuffle_bn' / run / '20261201_000000' / 'vis_data' / 'scalars.json'
        log.parent.mkdir(parents=True)
        log.write_text('\n'.join(json.dumps(dict(loss=v, iter=25 * (i + 1), lr=1e-3))
                                 for i, v in enumerate(losses)) + '\n' + json.dumps(dict(top1=3.0)))
    assert training_losses(tmp_path / 'shuffle_bn' / 'bn_splits=1_seed0') == [
        (25, 6.0), (50, 4.0), (75, 2.0)]
    rows = [dict(run_id='bn_splits=4_seed0', values={'model.bn_splits': 4}),
            dict(run_id='reused', values={'model.bn_splits': 1}, source='shuffle_bn/bn_splits=1_seed0')]
    png = tmp_path / 'page' / 'shuffle_bn_loss.png'
    assert plot_loss_curves(rows, tmp_path, png, 'shuffle_bn') and png.stat().st_size > 3000
    assert not plot_loss_curves([dict(run_id='none', values={})], tmp_path, tmp_path / 'x.png', 'e')
    assert not (tmp_path / 'x.png').exists()


def test_report_only_tabulates_finished_runs_and_lists_the_rest(tmp_path, monkeypatch):
    spec_path = _spec(tmp_path, seeds=[0, 1])
    done = tmp_path / 'work' / 'k' / 'queue_len=32_seed0' / 'run.json'
    done.parent.mkdir(parents=True)
    done.write_text(json.dumps(dict(run_id='queue_len=32_seed0', values={'model.queue_len': 32},
                                    seed=0, iters=4, batch_size=16, train_wall_s=1.0,
                                    images_per_s=64.0, knn_top1=12.5, linear_top1=None)))
    monkeypatch.setattr(sweep_runs.subprocess, 'call', lambda *a, **k: pytest.fail('trained'))
    out = tmp_path / 'page.md'
    sweep_cli.sweep(sweep_cli.parse_args([str(spec_path), '--report-only', '--work-root',
                                          str(tmp_path / 'work'), '--out', str(out)]))
    text = out.read_text()
    assert '| 32 | 1 | 12.50 | - | - | 12.50 |' in text and '\n| 64 |' not in text
    assert 'Not run yet: queue_len=32_seed1, queue_len=64_seed0, queue_len=64_seed1.' in text


def test_report_only_counts_a_finished_twin_of_another_spec(tmp_path):
    first = load_spec(_spec(tmp_path))
    run = expand(first)[0]
    done = tmp_path / 'work' / 'k' / run.run_id / 'run.json'
    done.parent.mkdir(parents=True)
    done.write_text(json.dumps(dict(run_id=run.run_id, identity=sweep_runs.run_identity(
        sweep_runs.run_config(first, run), first, None), source='k/x', knn_top1=12.5)))
    (tmp_path / 'other').mkdir()
    other = load_spec(_spec(tmp_path / 'other', name='m', sweep={'model.momentum': [0.99, 0.9]},
                            cfg_options={**SMALL, 'model.queue_len': 32}))
    summaries, missing = sweep_runs.finished_runs(other, expand(other), tmp_path / 'work')
    assert [s['run_id'] for s in summaries] == ['momentum=0.99_seed0'] and summaries[0]['knn_top1'] == 12.5
    assert missing == ['momentum=0.9_seed0']


def test_identity_ignores_the_env_data_root_when_data_root_is_given(tmp_path, monkeypatch):
    # The runs read --data-root; $MOCO_DATA_ROOT only changed the hash, so an equal run of
    # another spec was trained again when the variable differed between sessions.
    spec = load_spec(_spec(tmp_path))
    run = expand(spec)[0]
    identities = {}
    for env_root in ('/elsewhere/cifar10', '/data/cifar10'):
        monkeypatch.setenv('MOCO_DATA_ROOT', env_root)
        cfg = sweep_runs.run_config(spec, run)
        identities[env_root] = (sweep_runs.run_identity(cfg, spec, '/data/cifar10'),
                                sweep_runs.run_identity(cfg, spec, None))
    with_root, without_root = zip(*identities.values())
    assert with_root[0] == with_root[1]
    assert without_root[0] != without_root[1]  # without --data-root the env's root is read
    assert cfg.train_dataloader.dataset.data_root == '/data/cifar10'  # the hash copied cfg


def test_a_benchmark_on_other_data_is_not_given_the_training_data_root(tmp_path, monkeypatch):
    spec = load_spec(_spec(tmp_path, benchmark=['--knn', '--eval-data', '/other/cifar100']))
    commands = []

    def fake_call(command, **_):
        commands.append(command)
        if 'moco_plugin.cli.benchmark' in command:
            out = Path(command[command.index('--out') + 1])
            out.write_text(json.dumps({'pretrain': {'iters': 4}, 'knn': {'200': {'top1': 11.0}}}))
        return 0

    monkeypatch.setattr(sweep_runs.subprocess, 'call', fake_call)
    summary = sweep_runs.run_one(spec, expand(spec)[0], tmp_path / 'work', '/data/cifar10')
    train, bench = commands
    assert train[train.index('--data-root') + 1] == '/data/cifar10'
    assert '--data-root' not in bench and '/other/cifar100' in bench
    assert summary['knn_top1'] == 11.0
