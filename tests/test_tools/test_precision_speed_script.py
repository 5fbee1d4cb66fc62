"""benchmarks/scripts/precision_speed.py in a tiny mode, so the script behind throughput.md cannot rot."""
import json

from tests.conftest import run_tool


def test_precision_speed_tiny_run_writes_paired_ratios(cifar_root, tmp_path):
    out = tmp_path / 'speed.json'
    result = run_tool('benchmarks/scripts/precision_speed.py', '--settings', 'fp32,bf16,fp32-channels-last',
                      '--batch-size', '8', '--batches', '1', '--windows', '2', '--iters', '1',
                      '--warmup', '1', '--data-root', str(cifar_root), '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(out.read_text())
    assert summary['batch_size'] == 8 and summary['image_size'] == 32
    assert list(summary['results']) == ['fp32', 'bf16', 'fp32-channels-last']
    first = summary['results']['fp32']
    assert first['over_first'] == first['paired_over_first'] == 1.0
    for row in summary['results'].values():
        assert len(row['windows']) == 2 and all(rate > 0 for rate in row['windows'])
    assert set(summary['cpu']) == {'aten_capability', 'onednn_bf16', 'native_bf16'}
    assert 'paired' in result.stdout  # the table header


def test_unknown_setting_is_refused_in_one_line(tmp_path):
    result = run_tool('benchmarks/scripts/precision_speed.py', '--settings', 'fp64', '--data-root',
                      str(tmp_path))
    assert result.returncode != 0 and 'unknown settings' in result.stderr
