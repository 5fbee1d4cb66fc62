"""The precision feature extraction runs in: fp32 unless asked, and a warning for emulated bf16."""
import pytest

from moco_plugin.cli import benchmark_linear
from moco_plugin.evaluation import precision
from moco_plugin.evaluation.precision import (cpu_has_native_bf16, emulated_bf16_warning,
                                              resolve_precision)


@pytest.mark.parametrize('flags, native', [('fpu avx2 avx512f avx512_bf16 sse4_2', True),
                                           ('fpu avx2 amx_bf16 amx_tile', True),
                                           ('fpu avx2 avx512f avx512bw', False)])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(f'processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n')
    assert cpu_has_native_bf16.__wrapped__(str(cpuinfo)) is native
    assert cpu_has_native_bf16.__wrapped__(str(tmp_path / 'missing')) is False


def test_precision_choices_resolve_per_device(monkeypatch):
    assert resolve_precision('fp32', 'cpu') == resolve_precision('fp32', 'cuda') == 'fp32'
    assert (resolve_precision('amp', 'cpu'), resolve_precision('amp', 'cuda:0')) == ('bf16', 'fp16')
    with pytest.raises(ValueError, match='precision must be one of fp32, amp'):
        resolve_precision('half', 'cpu')
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: False)
    assert 'emulated and slower than fp32' in emulated_bf16_warning('bf16')
    assert emulated_bf16_warning('fp32') is None and emulated_bf16_warning('fp16') is None
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: True)
    assert emulated_bf16_warning('bf16') is None


def test_benchmark_arguments_resolve_the_precision(monkeypatch, capsys):
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: False)
    base = ['cfg.py', 'ckpt.pth', '--knn', '--device', 'cpu']
    args = benchmark_linear.parse_args(base)
    assert (args.precision, args.amp) == ('fp32', False)
    assert capsys.readouterr().err == ''
    args = benchmark_linear.parse_args(base + ['--precision', 'amp'])
    assert (args.precision, args.amp) == ('bf16', True)
    assert 'emulated and slower than fp32' in capsys.readouterr().err
    assert benchmark_linear.parse_args(base + ['--amp']).precision == 'bf16'
    with pytest.raises(SystemExit):
        benchmark_linear.parse_args(base + ['--amp', '--precision', 'fp32'])
    assert '--amp and --precision fp32 contradict' in capsys.readouterr().err


def test_large_crops_on_a_native_bf16_cpu_get_a_hint(monkeypatch):
    from moco_plugin.evaluation.precision import large_crop_hint
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: True)
    assert '--precision amp' in large_crop_hint(224, 'fp32')
    assert large_crop_hint(32, 'fp32') is None and large_crop_hint(224, 'bf16') is None
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: False)
    assert large_crop_hint(224, 'fp32') is None
