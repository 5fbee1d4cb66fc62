"""What the check runs on, where the data is, and the settings it compares."""
from __future__ import annotations

import os
import os.path as osp
import platform
import subprocess
import warnings
from typing import Dict, List, Optional

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(REPO_ROOT, 'configs', 'mocov2', 'mocov2_resnet18_1xb512-coslr-200e_cifar10-gpu.py')

# name -> (precision, channels_last, compile); fused SGD, data on the device and the lazy loss
# read-back are on in every setting (the config's), so the settings differ in these only.
SETTINGS: Dict[str, Dict] = {
    'fp32': dict(precision='fp32', channels_last=False, compile=False),
    'bf16': dict(precision='bf16', channels_last=False, compile=False),
    'bf16_cl': dict(precision='bf16', channels_last=True, compile=False),
    'bf16_cl_compile': dict(precision='bf16', channels_last=True, compile=True),
    # not run by default (time): compile without channels_last, e.g. to see whether split-BN's
    # reshapes make channels_last cost more than it gives
    'bf16_compile': dict(precision='bf16', channels_last=False, compile=True),
}
DEFAULT_SETTINGS = ['fp32', 'bf16', 'bf16_cl', 'bf16_cl_compile']


def data_root_candidates(explicit: Optional[str]) -> List[str]:
    """--data-root, $MOCO_DATA_ROOT, ./shared/datasets/cifar10 (the GPU machine: shared/ travels
    inside the repo), ../shared/datasets/cifar10 (a developer's checkout)."""
    return [c for c in (explicit, os.environ.get('MOCO_DATA_ROOT'),
                        osp.join(REPO_ROOT, 'shared', 'datasets', 'cifar10'),
                        osp.join(osp.dirname(REPO_ROOT), 'shared', 'datasets', 'cifar10')) if c]


def find_data_root(explicit: Optional[str]) -> str:
    for candidate in data_root_candidates(explicit):
        if osp.isdir(osp.join(candidate, 'train')) or osp.isdir(osp.join(candidate,
                                                                         'cifar-10-batches-py')):
            return candidate
    raise SystemExit('gpu_check.py: CIFAR-10 not found in ' + ', '.join(data_root_candidates(explicit))
                     + '; pass --data-root DIR (DIR/train/<class>/*.jpg or DIR/cifar-10-batches-py)')


def _nvidia_smi() -> Dict[str, str]:
    try:
        out = subprocess.run(['nvidia-smi', '--query-gpu=name,driver_version,memory.total',
                              '--format=csv,noheader'], capture_output=True, text=True, timeout=20)
        name, driver, memory = [v.strip() for v in out.stdout.splitlines()[0].split(',')]
        return dict(gpu_smi=name, driver=driver, gpu_memory=memory)
    except (OSError, IndexError, ValueError, subprocess.SubprocessError):
        return dict(driver='unknown (no nvidia-smi)')


def environment() -> Dict[str, object]:
    """GPU, driver, torch, CUDA, cuDNN, capability, CPU: printed first and kept in the JSON."""
    info: Dict[str, object] = dict(
        torch=torch.__version__, cuda=torch.version.cuda, python=platform.python_version(),
        cpu_count=os.cpu_count(), platform=platform.platform())
    try:
        import mmengine
        info['mmengine'] = mmengine.__version__
    except ImportError:
        info['mmengine'] = 'missing'
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device='cuda', gpu=props.name, capability='.'.join(map(str, (props.major,
                                                                               props.minor))),
                    multiprocessors=props.multi_processor_count,
                    gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    cudnn=torch.backends.cudnn.version(), bf16=torch.cuda.is_bf16_supported())
        info.update(_nvidia_smi())
    else:
        info.update(device='cpu', gpu='none (CPU run)')
    return info


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class SyncCounter:
    """Counts the host synchronisations CUDA reports (``torch.cuda.set_sync_debug_mode('warn')``)
    between :meth:`start` and :meth:`stop`; counts nothing on a CPU (returns ``None``)."""

    def __init__(self) -> None:
        self._catcher = None
        self._records: list = []

    def start(self) -> None:
        if not torch.cuda.is_available():
            return
        self._catcher = warnings.catch_warnings(record=True)
        self._records = self._catcher.__enter__()
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')

    def stop(self) -> Optional[Dict[str, object]]:
        if self._catcher is None:
            return None
        torch.cuda.set_sync_debug_mode('default')
        self._catcher.__exit__(None, None, None)
        self._catcher = None
        found = [f'{osp.relpath(r.filename, REPO_ROOT) if r.filename.startswith(REPO_ROOT) else r.filename}'
                 f':{r.lineno}' for r in self._records if 'synchroniz' in str(r.message).lower()]
        return dict(count=len(found), where=sorted(set(found))[:8])
