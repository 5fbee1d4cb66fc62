"""Distributed CPU (gloo) training under torchrun or slurm, without MMEngine's CUDA calls."""
from __future__ import annotations

import os
from typing import Callable, Dict, Mapping, Optional


def slurm_environment(environ: Mapping[str, str],
                      resolve_host: Optional[Callable[[str], str]] = None,
                      port: Optional[int] = None) -> Dict[str, str]:
    """``env://`` variables of ``torch.distributed`` for a task started by ``srun``.

    The same values MMEngine's slurm launcher derives (rank = ``SLURM_PROCID``,
    world size = ``SLURM_NTASKS``, master = the first host of
    ``SLURM_NODELIST``, port 29500 unless set), without its CUDA calls.

    Args:
        environ: The process environment.
        resolve_host: Maps ``SLURM_NODELIST`` to its first host name (default:
            ``scontrol show hostname``); only called when ``MASTER_ADDR`` is unset.
        port: ``dist_cfg.port``; else ``MASTER_PORT``, else 29500.

    Returns:
        ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``.
    """
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST') if k not in environ]
    if missing:
        raise RuntimeError(f'--launcher slurm outside a slurm task: {", ".join(missing)} not set; '
                           'start it with srun, or use --launcher pytorch with torchrun')
    if 'MASTER_ADDR' in environ:
        master = environ['MASTER_ADDR']
    else:
        if resolve_host is None:
            import subprocess

            def resolve_host(nodes: str) -> str:
                return subprocess.getoutput(f'scontrol show hostname {nodes} | head -n1').strip()
        master = resolve_host(environ['SLURM_NODELIST'])
    return dict(RANK=environ['SLURM_PROCID'], WORLD_SIZE=environ['SLURM_NTASKS'],
                LOCAL_RANK=environ.get('SLURM_LOCALID', environ['SLURM_PROCID']),
                MASTER_ADDR=master,
                MASTER_PORT=str(port if port is not None else environ.get('MASTER_PORT', 29500)))


def init_cpu_process_group(dist_cfg: dict, launcher: str) -> None:
    """Join the process group of a torchrun or slurm launch on a machine without CUDA.

    MMEngine's ``init_dist`` calls ``torch.cuda.set_device`` whatever the
    backend, so CPU (gloo) training under ``--launcher pytorch|slurm`` fails
    there; the Runner skips ``init_dist`` when the group already exists.

    Args:
        dist_cfg: ``env_cfg.dist_cfg`` (``backend``, optional ``timeout`` in
            seconds, optional ``port`` for slurm, other ``init_process_group``
            arguments).
        launcher: ``'pytorch'`` (torchrun set the ``env://`` variables) or
            ``'slurm'`` (they are derived from slurm's, :func:`slurm_environment`).
    """
    import datetime

    import torch.distributed as torch_dist

    if torch_dist.is_initialized():
        return
    kwargs = dict(dist_cfg)
    port = kwargs.pop('port', None)
    if launcher == 'slurm':
        os.environ.update(slurm_environment(os.environ, port=port))
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    torch_dist.init_process_group(**kwargs)  # env:// from RANK, WORLD_SIZE, MASTER_*
