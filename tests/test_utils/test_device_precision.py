"""Precision, device and threads chosen for the machine (capabilities faked)."""
import pytest

from moco_plugin.utils.device_precision import (PrecisionChoice, choose_precision,
                                               cpu_precision_report, native_bf16,
                                               resolve_device, threads_for_process)

AVX512_BF16 = dict(aten_capability='AVX512', onednn_bf16=True, native_bf16=True)
AVX2 = dict(aten_capability='AVX2', onednn_bf16=False, native_bf16=False)
# ATEN_CPU_CAPABILITY=avx2 on an AVX-512 BF16 CPU: oneDNN still has bf16, ATen does not.
ATEN_AVX2_ONLY = dict(aten_capability='AVX2', onednn_bf16=True, native_bf16=False)


@pytest.mark.parametrize('capability, onednn, expected', [
    ('AVX512', True, True), ('avx512', True, True), ('AVX2', True, False),
    ('AVX512', False, False), ('DEFAULT', True, False), ('NO AVX', True, False),
    ('SVE256', True, True), ('SVE256', False, False)])
def test_native_bf16_needs_both_reports(capability, onednn, expected):
    assert native_bf16(capability, onednn) is expected


@pytest.mark.parametrize('report, expected', [(AVX512_BF16, 'bf16'), (AVX2, 'fp32'),
                                              (ATEN_AVX2_ONLY, 'fp32')])
def test_auto_training_on_cpu_follows_the_reported_capability(report, expected):
    choice = choose_precision('auto', 'cpu', 'train', report=report)
    assert choice.precision == expected and choice.warning is None
    assert report['aten_capability'] in choice.reason  # the reason names what torch reported
    assert choice.autocast is (expected != 'fp32')


@pytest.mark.parametrize('size, expected', [(32, 'fp32'), (96, 'fp32'), (127, 'fp32'),
                                            (128, 'bf16'), (224, 'bf16'), (None, 'fp32')])
def test_auto_extraction_follows_the_measured_crop_threshold(size, expected):
    assert choose_precision('auto', 'cpu', 'extract', size, report=AVX512_BF16).precision == expected
    assert choose_precision('auto', 'cpu', 'extract', size, report=AVX2).precision == 'fp32'


@pytest.mark.parametrize('requested', ['bf16', 'amp'])
def test_explicit_bf16_on_an_emulating_cpu_runs_with_a_one_line_warning(requested):
    choice = choose_precision(requested, 'cpu', 'train', report=AVX2)
    assert choice.precision == 'bf16'
    assert 'emulated' in choice.warning and '\n' not in choice.warning
    assert choose_precision(requested, 'cpu', 'train', report=AVX512_BF16).warning is None


def test_fp32_is_always_fp32_and_fp16_on_cpu_warns():
    for report in (AVX2, AVX512_BF16):
        assert choose_precision('fp32', 'cpu', report=report).precision == 'fp32'
    choice = choose_precision('fp16', 'cpu', report=AVX512_BF16)
    assert choice.precision == 'fp16' and choice.warning


@pytest.mark.parametrize('requested, bf16_gpu, expected', [
    ('auto', True, 'bf16'), ('auto', False, 'fp16'), ('amp', True, 'bf16'), ('amp', False, 'fp16'),
    ('fp16', True, 'fp16'), ('bf16', True, 'bf16'), ('fp32', True, 'fp32')])
def test_cuda_mapping(requested, bf16_gpu, expected):
    choice = choose_precision(requested, 'cuda', 'train', cuda_bf16=bf16_gpu)
    assert choice.precision == expected and choice.device == 'cuda'
    if expected == 'fp16' and requested != 'fp16':
        assert 'loss scaler' in choice.reason


def test_bf16_on_a_gpu_without_it_and_unknown_choices_are_refused():
    with pytest.raises(ValueError, match='no bf16'):
        choose_precision('bf16', 'cuda', cuda_bf16=False)
    with pytest.raises(ValueError, match='choose one of'):
        choose_precision('half', 'cpu')


def test_choice_records_what_was_asked_and_why():
    record = choose_precision('auto', 'cpu', report=AVX2).as_dict()
    assert record == dict(requested='auto', precision='fp32', device='cpu',
                          reason=record['reason'])
    assert 'no native bf16' in record['reason']
    assert 'warning' in choose_precision('bf16', 'cpu', report=AVX2).as_dict()
    assert isinstance(PrecisionChoice('auto', 'fp32', 'cpu', 'x').log_line(), str)


def test_this_machine_report_is_consistent():
    report = cpu_precision_report()
    assert report['native_bf16'] == native_bf16(report['aten_capability'], report['onednn_bf16'])


def test_devices(monkeypatch):
    assert resolve_device('cpu') == 'cpu' and resolve_device(' CPU ') == 'cpu'
    monkeypatch.setattr('torch.cuda.is_available', lambda: False)
    assert resolve_device(None) == 'cpu'
    with pytest.raises(ValueError, match='no CUDA device'):
        resolve_device('cuda')
    with pytest.raises(ValueError, match='not a device'):
        resolve_device('gpu0')
    monkeypatch.setattr('torch.cuda.is_available', lambda: True)
    monkeypatch.setattr('torch.cuda.device_count', lambda: 1)
    assert resolve_device(None) == 'cuda' and resolve_device('cuda:0') == 'cuda:0'
    with pytest.raises(ValueError, match='only 1 CUDA'):
        resolve_device('cuda:1')


def test_threads_for_process():
    assert threads_for_process({'MOCO_NUM_THREADS': '3', 'OMP_NUM_THREADS': '1'}) == 3
    assert threads_for_process({'OMP_NUM_THREADS': '1'}) == 1
    assert threads_for_process({}) >= 1
    with pytest.raises(ValueError, match='positive thread count'):
        threads_for_process({'OMP_NUM_THREADS': 'two'})
