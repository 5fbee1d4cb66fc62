"""The precision feature extraction runs in: bf16 only where the CPU computes it natively."""
import pytest

from moco_plugin.cli import benchmark_linear
from moco_plugin.evaluation import precision
from moco_plugin.evaluation.precision import cpu_has_native_bf16, resolve_precision


@pytest.mark.parametrize('flags, native', [('fpu avx2 avx512f avx512_bf16 sse4_2', True),
                                           ('fpu avx2 amx_bf16 amx_tile', True),
                                           ('fpu avx2 avx512f avx512bw', False)])
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(f'processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n')
    assert cpu_has_native_bf16.__wrapped__(str(cpuinfo)) is native
    assert cpu_has_native_bf16.__wrapped__(str(tmp_path / 'missing')) is False


@pytest.mark.parametrize('native, expected', [(True, 'bf16'), (False, 'fp32')])
def test_auto_is_bf16_only_on_a_cpu_with_native_bf16(monkeypatch, native, expected):
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: native)
    assert resolve_precision('auto', 'cpu') == expected
    assert resolve_precision('auto', 'cuda') == 'fp32'
    assert (resolve_precision('amp', 'cpu'), resolve_precision('amp', 'cuda:0')) == ('bf16', 'fp16')
    assert resolve_precision('fp32', 'cpu') == 'fp32'
    with pytest.raises(ValueError, match='precision must be one of auto, fp32, amp'):
        resolve_precision('half', 'cpu')


def test_benchmark_arguments_resolve_the_precision(monkeypatch, capsys):
    monkeypatch.setattr(precision, 'cpu_has_native_bf16', lambda: True)
    base = ['cfg.py', 'ckpt.pth', '--knn', '--device', 'cpu']
    args = benchmark_linear.parse_args(base)
    assert (args.precision, args.amp) == ('bf16', True)
    args = benchmark_linear.parse_args(base + ['--precision', 'fp32'])
    assert (args.precision, args.amp) == ('fp32', False)
    assert benchmark_linear.parse_args(base + ['--amp']).precision == 'bf16'
    with pytest.raises(SystemExit):
        benchmark_linear.parse_args(base + ['--amp', '--precision', 'fp32'])
    assert '--amp and --precision fp32 contradict' in capsys.readouterr().err
