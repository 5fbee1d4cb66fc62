"""--device / --precision / --amp / --threads on the tools that train or extract features."""
import argparse

import pytest
import torch

from moco_plugin.cli import benchmark as benchmark_cli, train
from moco_plugin.experiments import benchmark_setup
from moco_plugin.utils import device_precision

@pytest.fixture(autouse=True)
def _keep_threads():
    """choose_runtime sets this process's thread count; give the other tests theirs back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


AVX2 = dict(aten_capability='AVX2', onednn_bf16=False, native_bf16=False)
NATIVE = dict(aten_capability='AVX512', onednn_bf16=True, native_bf16=True)


def test_amp_is_a_synonym_and_contradictions_are_refused(capsys):
    base = ['cfg.py', 'ckpt.pth', '--knn', '--device', 'cpu']
    assert benchmark_cli.parse_args(base).precision_request == 'auto'
    assert benchmark_cli.parse_args(base + ['--amp']).precision_request == 'amp'
    assert benchmark_cli.parse_args(base + ['--precision', 'bf16', '--amp']).precision == 'bf16'
    for parse, argv in ((benchmark_cli.parse_args, base), (train.parse_args, ['cfg.py'])):
        with pytest.raises(SystemExit):
            parse(argv + ['--amp', '--precision', 'fp32'])
        assert '--amp and --precision fp32 contradict' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(['cfg.py', '--threads', '0'])
    assert train.parse_args(['cfg.py']).precision == 'auto'


@pytest.mark.parametrize('report, size, expected', [(AVX2, 224, 'fp32'), (NATIVE, 224, 'bf16'),
                                                    (NATIVE, 32, 'fp32')])
def test_benchmark_resolves_extraction_precision_at_the_crop_size(monkeypatch, report, size,
                                                                 expected):
    monkeypatch.setattr(device_precision, 'cpu_precision_report', lambda: report)
    args = argparse.Namespace(device='cpu', precision='auto', precision_request='auto', threads=1)
    lines = []
    benchmark_setup.choose_runtime(args, size, lines.append)
    assert args.precision == expected and args.device == 'cpu'
    assert args.amp == (False if expected == 'fp32' else expected)
    assert args.precision_choice['precision'] == expected
    assert args.precision_choice['requested'] == 'auto'
    assert lines and f'precision {expected} on cpu' in lines[0] and '1 threads' in lines[0]


def test_explicit_bf16_on_an_emulating_cpu_is_logged_as_slow(monkeypatch):
    monkeypatch.setattr(device_precision, 'cpu_precision_report', lambda: AVX2)
    args = argparse.Namespace(device='cpu', precision='bf16', precision_request='bf16', threads=1)
    lines = []
    benchmark_setup.choose_runtime(args, 32, lines.append)
    assert args.precision == 'bf16' and any('emulated' in line for line in lines)
