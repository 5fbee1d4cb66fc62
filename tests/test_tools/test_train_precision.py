"""tools/train.py picks the precision for the machine and records the choice."""
import pytest
import torch

from moco_plugin.utils import safe_torch_load
from moco_plugin.utils.device_precision import choose_precision
from tests.conftest import run_tool
from tests.test_tools.test_train import CONFIG, TINY

# What torch runs on a CPU without AVX-512 BF16: ATen's AVX2 kernels, oneDNN capped at AVX2
# (ATEN_CPU_CAPABILITY alone leaves oneDNN's bf16 convolutions on).
AVX2_ENV = {'ATEN_CPU_CAPABILITY': 'avx2', 'ONEDNN_MAX_CPU_ISA': 'AVX2'}


def _train(work_dir, *extra, env=None):
    return run_tool('tools/train.py', CONFIG, '--work-dir', str(work_dir), *extra, '--cfg-options',
                    *TINY, 'train_cfg.max_epochs=1', 'train_dataloader.dataset.subset_size=32',
                    env=env)


@pytest.mark.parametrize('env, expected', [
    (None, choose_precision('auto', 'cpu', 'train').precision),  # this machine's own answer
    (AVX2_ENV, 'fp32')])
def test_auto_precision_is_logged_and_recorded_in_the_checkpoint(cifar_root, tmp_path, env,
                                                                 expected):
    env = {'MOCO_DATA_ROOT': str(cifar_root), **(env or {})}
    result = _train(tmp_path / 'run', *(['--device', 'cpu'] if env.get('ONEDNN_MAX_CPU_ISA') else []),
                    env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    meta = safe_torch_load(str(tmp_path / 'run' / 'epoch_1.pth'))['meta']
    assert meta['precision']['requested'] == 'auto'
    assert meta['precision']['precision'] == expected
    assert meta['precision']['device'] == 'cpu'
    assert f'precision {expected} on cpu (--precision auto)' in result.stdout + result.stderr
    if env.get('ONEDNN_MAX_CPU_ISA'):
        assert 'no native bf16' in meta['precision']['reason']
        assert 'AVX2' in meta['precision']['reason']


def test_explicit_bf16_on_an_emulating_cpu_warns_in_one_line(cifar_root, tmp_path):
    # --device cuda fails before training where there is no GPU; bf16 under AVX2 emulation
    # runs (slowly), so only the start is checked: a batch of 4 images, one iteration.
    env = {'MOCO_DATA_ROOT': str(cifar_root), **AVX2_ENV}
    result = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'bf16'), '--amp',
                      '--cfg-options', *TINY, 'train_cfg.max_epochs=1',
                      'train_dataloader.batch_size=4', 'train_dataloader.dataset.subset_size=4',
                      'model.queue_len=8', 'model.bn_splits=1', env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if 'emulated' in line]
    assert lines and 'fp32' in lines[0]
    meta = safe_torch_load(str(tmp_path / 'bf16' / 'epoch_1.pth'))['meta']
    assert meta['precision']['precision'] == 'bf16' and meta['precision']['requested'] == 'amp'
    assert 'emulated' in meta['precision']['warning']


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU-only machine')
def test_cuda_device_on_a_machine_without_one_is_a_one_line_error(tmp_path):
    result = run_tool('tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--device', 'cuda')
    assert result.returncode != 0
    assert 'no CUDA device' in result.stderr and 'Traceback' not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
