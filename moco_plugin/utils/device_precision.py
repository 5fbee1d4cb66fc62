"""The device and the precision a tool runs in, chosen for the machine it runs on.

``--precision auto`` (every training and feature-extracting tool's default) picks bf16
autocast on a CPU only where torch reports native bf16: ATen's AVX-512 kernels
(``torch.backends.cpu.get_cpu_capability()``) *and* oneDNN's bf16 support
(``torch.ops.mkldnn._is_mkldnn_bf16_supported()``, AVX-512 BF16 or AMX; it honours
``ONEDNN_MAX_CPU_ISA``). Elsewhere oneDNN emulates bf16, measured 40-100x slower than
fp32 (benchmarks/results/throughput/README.md), so ``auto`` stays in fp32 there and an explicit ``bf16``
runs but says why it will be slow. On CUDA ``auto`` is bf16 where the GPU supports it, else
fp16 with a loss scaler (training). What ``auto`` picks follows the measurements in
benchmarks/results/throughput/README.md: for feature extraction on a CPU at crops under 128 px, bf16
measured slower than fp32, so ``auto`` extracts in fp32 there.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Dict, Optional

import torch

PRECISION_CHOICES = ('auto', 'fp32', 'bf16', 'fp16', 'amp')
DEVICE_HELP = "cpu, cuda or cuda:N (default: cuda when available, else cpu)"
# ATen capabilities without wide enough vectors for bf16 (x86 names; others count as native
# only where oneDNN reports bf16 too).
_NARROW_CAPABILITIES = ('DEFAULT', 'NO AVX', 'AVX', 'AVX2')
# Smallest crop at which bf16 extraction measured faster than fp32 on a native-bf16 CPU.
BF16_EXTRACTION_MIN_SIDE = 128


def cpu_precision_report() -> Dict[str, object]:
    """What torch reports about this CPU's bf16 support.

    Example:
        >>> sorted(cpu_precision_report())
        ['aten_capability', 'native_bf16', 'onednn_bf16']
    """
    capability = torch.backends.cpu.get_cpu_capability()
    try:
        onednn = bool(torch.backends.mkldnn.is_available()
                      and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        onednn = False
    return dict(aten_capability=capability, onednn_bf16=onednn,
                native_bf16=native_bf16(capability, onednn))


def native_bf16(aten_capability: str, onednn_bf16: bool) -> bool:
    """Whether bf16 autocast runs natively on a CPU that reports these two facts.

    Example:
        >>> native_bf16('AVX512', True), native_bf16('AVX2', True), native_bf16('AVX512', False)
        (True, False, False)
    """
    return bool(onednn_bf16) and aten_capability.upper() not in _NARROW_CAPABILITIES


def resolve_device(requested: Optional[str] = None) -> str:
    """``'cpu'`` or ``'cuda[:N]'`` for a ``--device`` value (``None``: CUDA when available).

    Raises:
        ValueError: An unknown device, or CUDA asked for where there is none.

    Example:
        >>> resolve_device('cpu')
        'cpu'
    """
    if requested is None or requested == '':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    name = requested.strip().lower()
    if name == 'cpu':
        return 'cpu'
    if name == 'cuda' or (name.startswith('cuda:') and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ValueError(f'--device {requested}: torch sees no CUDA device on this machine '
                             f'(torch {torch.__version__}); use --device cpu')
        if ':' in name and int(name[5:]) >= torch.cuda.device_count():
            raise ValueError(f'--device {requested}: only {torch.cuda.device_count()} CUDA '
                             'device(s) here; pick cuda:0 ... or cuda')
        return name
    raise ValueError(f'--device {requested!r} is not a device: pass cpu, cuda or cuda:N')


@dataclass(frozen=True)
class PrecisionChoice:
    """A resolved ``--precision``: what was asked, what runs, and why."""

    requested: str
    precision: str  # 'fp32', 'bf16' or 'fp16'
    device: str
    reason: str
    warning: Optional[str] = None

    @property
    def autocast(self) -> bool:
        return self.precision != 'fp32'

    def as_dict(self) -> Dict[str, object]:
        """What result files and checkpoints record."""
        out = asdict(self)
        if out['warning'] is None:
            del out['warning']
        return out

    def log_line(self) -> str:
        return f'precision {self.precision} on {self.device} ({self.requested}): {self.reason}'


def _emulated_warning(report: Dict[str, object]) -> str:
    return (f"bf16 on this CPU is emulated (torch reports {report['aten_capability']} kernels, "
            f"oneDNN bf16 {'on' if report['onednn_bf16'] else 'off'}): expect it to be tens of "
            'times slower than fp32 (20 s vs 0.6 s per main-job iteration measured); use '
            '--precision auto or fp32')


def choose_precision(requested: str = 'auto', device: str = 'cpu', task: str = 'train',
                     image_size: Optional[int] = None,
                     report: Optional[Dict[str, object]] = None,
                     cuda_bf16: Optional[bool] = None) -> PrecisionChoice:
    """Resolve ``requested`` (one of :data:`PRECISION_CHOICES`) for ``device`` and ``task``.

    Args:
        requested: ``auto``; ``fp32``; ``bf16``; ``fp16``; ``amp`` (the old ``--amp``: an
            explicit mixed precision, bf16 on a CPU, as ``auto`` picks on CUDA).
        device: ``'cpu'`` or ``'cuda[:N]'``.
        task: ``'train'`` or ``'extract'`` (frozen-backbone features).
        image_size: The crop side; with ``task='extract'`` it decides bf16 on a native CPU.
        report: :func:`cpu_precision_report` (default: this machine's); tests fake it.
        cuda_bf16: Whether the GPU supports bf16 (default: ``torch.cuda.is_bf16_supported``).

    Example:
        >>> fake = dict(aten_capability='AVX2', onednn_bf16=False, native_bf16=False)
        >>> choose_precision('auto', 'cpu', report=fake).precision
        'fp32'
        >>> choose_precision('bf16', 'cpu', report=fake).warning is not None
        True
    """
    if requested not in PRECISION_CHOICES:
        raise ValueError(f'--precision {requested!r}: choose one of {", ".join(PRECISION_CHOICES)}')
    if task not in ('train', 'extract'):
        raise ValueError(f"task must be 'train' or 'extract', got {task!r}")
    if requested == 'fp32':
        return PrecisionChoice(requested, 'fp32', device, 'asked for')
    if device.startswith('cuda'):
        if cuda_bf16 is None:
            cuda_bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        if requested == 'fp16':
            return PrecisionChoice(requested, 'fp16', device, 'asked for' + (
                ' (with a dynamic loss scaler)' if task == 'train' else ''))
        if requested == 'bf16' and not cuda_bf16:
            raise ValueError(f'--precision bf16: this GPU has no bf16; use --precision fp16 or auto')
        if cuda_bf16:
            why = 'asked for' if requested == 'bf16' else 'the GPU supports bf16 (no loss scaler needed)'
            return PrecisionChoice(requested, 'bf16', device, why)
        return PrecisionChoice(requested, 'fp16', device,
                               'the GPU has no bf16: fp16' + (' with a dynamic loss scaler'
                                                              if task == 'train' else ''))
    report = report if report is not None else cpu_precision_report()
    native = bool(report['native_bf16'])
    facts = (f"torch reports {report['aten_capability']} kernels, oneDNN bf16 "
             f"{'on' if report['onednn_bf16'] else 'off'}")
    if requested in ('bf16', 'amp', 'fp16'):
        precision = 'fp16' if requested == 'fp16' else 'bf16'
        warning = None
        if precision == 'bf16' and not native:
            warning = _emulated_warning(report)
        elif precision == 'fp16':
            warning = 'fp16 autocast on a CPU is rarely faster than fp32; use --precision auto'
        return PrecisionChoice(requested, precision, device, f'asked for ({facts})', warning)
    if not native:
        return PrecisionChoice(requested, 'fp32', device,
                               f'no native bf16 ({facts}): bf16 would be emulated, far slower')
    if task == 'extract' and (image_size is None or image_size < BF16_EXTRACTION_MIN_SIDE):
        return PrecisionChoice(requested, 'fp32', device,
                               f'native bf16 ({facts}), but at crops under '
                               f'{BF16_EXTRACTION_MIN_SIDE} px bf16 extraction measured slower '
                               'than fp32')
    return PrecisionChoice(requested, 'bf16', device, f'native bf16 ({facts})')


def threads_for_process(environ: Optional[Dict[str, str]] = None) -> int:
    """The intra-op thread count a main process should use: ``$MOCO_NUM_THREADS``, else
    ``$OMP_NUM_THREADS``, else the cores this process may run on.

    Example:
        >>> threads_for_process({'OMP_NUM_THREADS': '1'})
        1
    """
    environ = os.environ if environ is None else environ
    for key in ('MOCO_NUM_THREADS', 'OMP_NUM_THREADS'):
        value = environ.get(key, '').strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f'${key}={value!r} is not a positive thread count; '
                                 f'set e.g. {key}=2')
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
