"""The settings dataclasses the CLIs hand to moco_plugin.experiments: every option kept,
and no argparse namespace past the CLI."""
import dataclasses
import re
from pathlib import Path

import pytest

from moco_plugin.cli import benchmark as benchmark_cli
from moco_plugin.cli import sweep as sweep_cli
from moco_plugin.cli import transfer as transfer_cli
from moco_plugin.cli.benchmark_data_args import COMPARISON_OPTIONS
from moco_plugin.experiments.benchmark_settings import BenchmarkSettings
from moco_plugin.experiments.sweep import SweepSettings
from moco_plugin.experiments.transfer import TransferSettings

EXPERIMENTS = Path(__file__).resolve().parents[2] / 'moco_plugin' / 'experiments'
ARGV = ['cfg.py', 'random', '--knn', '--k', '5', '20', '--few-shot', '5x1', '--linear-lr', '3', '1',
        '--subset-train', '60', '--eval-data', 'root', '--cifar100-labels', 'coarse',
        '--cfg-options', 'model.backbone.cifar_stem=False', '--device', 'cpu', '--amp',
        '--threads', '2', '--out', 'r.json', '--quiet', '--csv-columns', 'a,b,c']


def _dests(parser):
    return {a.dest for a in parser._actions if a.dest != 'help'}


def test_every_benchmark_option_is_a_settings_field_with_its_parsed_value():
    args = benchmark_cli.parse_args(ARGV)
    settings = benchmark_cli.settings_from_args(args)
    fields = set(BenchmarkSettings.option_names())
    options = _dests(benchmark_cli.build_parser()) - set(COMPARISON_OPTIONS)
    assert options - fields == set()
    for name in options | {'precision_request'}:
        assert getattr(settings, name) == getattr(args, name), name
    assert settings.few_shot == [(5, 1)] and settings.k == [5, 20]
    assert settings.precision_request == 'amp' and settings.linear is False
    assert settings.cfg_options == {'model.backbone.cifar_stem': False}


def test_benchmark_settings_defaults_are_the_command_lines():
    # a settings object built in code runs what the bare command line runs
    parsed = benchmark_cli.settings_from_args(benchmark_cli.parse_args(['cfg.py', 'random']))
    built = BenchmarkSettings(config='cfg.py', checkpoint='random', precision_request='auto')
    assert dataclasses.asdict(parsed) == dataclasses.asdict(built)


def test_an_option_without_a_field_is_refused_not_dropped():
    args = benchmark_cli.parse_args(['cfg.py', 'random'])
    args.new_flag = 1
    with pytest.raises(TypeError, match='new_flag'):
        benchmark_cli.settings_from_args(args)


def test_sweep_and_transfer_settings_keep_every_option(tmp_path):
    args = sweep_cli.parse_args([str(tmp_path / 's.json'), '--jobs', '2', '--seeds', '0', '1',
                                 '--baseline', '256', '--report-only', '--data-root', 'd'])
    settings = sweep_cli.settings_from_args(args)
    assert dataclasses.asdict(settings) == vars(args)
    assert {f.name for f in dataclasses.fields(SweepSettings)} == set(vars(args))
    args = transfer_cli.parse_args(['--checkpoint', 'r=random_init_resnet18_cifar10:random',
                                    '--dataset', 'pets=a.csv,b.csv', '--linear', '--device', 'cpu',
                                    '--extra', '--k', '3'])
    settings = transfer_cli.settings_from_args(args)
    assert isinstance(settings, TransferSettings)
    assert settings.checkpoints == [('r', 'random_init_resnet18_cifar10', 'random')]
    assert settings.datasets == [('pets', ['--train-data', 'a.csv', '--test-data', 'b.csv'])]
    assert (settings.knn, settings.linear, settings.device, settings.extra) == (
        False, True, 'cpu', ['--k', '3'])
    assert {f.name for f in dataclasses.fields(TransferSettings)} == (
        set(vars(args)) - set(transfer_cli.RAW_OPTIONS))


def test_experiments_never_see_argparse():
    modules = sorted(EXPERIMENTS.glob('*.py'))
    assert modules
    mentions = [f'{p.name}:{n}' for p in modules
                for n, line in enumerate(p.read_text().splitlines(), 1)
                if re.search(r'argparse|Namespace|\bargs\.', line)]
    assert mentions == []
