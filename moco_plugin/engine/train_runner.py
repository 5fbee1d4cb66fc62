"""Run a built pretraining config: device, threads, resume check, CPU process group, Runner."""
from __future__ import annotations

from typing import Optional

from moco_plugin.engine.cpu_distributed import init_cpu_process_group
from moco_plugin.engine.runtime_choice import set_threads
from moco_plugin.engine.train_config import check_resumable


def run_training(cfg, device: str, threads: Optional[int] = None) -> None:
    """Train ``cfg`` (from :func:`~moco_plugin.engine.train_config.build_train_config`) on
    ``device`` with ``threads`` intra-op threads; logs the precision and the threads."""
    import torch
    from mmengine.runner import Runner

    if device.startswith('cuda:'):
        torch.cuda.set_device(int(device.split(':')[1]))
    used = set_threads(threads)
    if cfg.resume and cfg.load_from:
        check_resumable(cfg.load_from)
    if cfg.launcher != 'none' and not device.startswith('cuda'):
        init_cpu_process_group(cfg.env_cfg.get('dist_cfg', {}), cfg.launcher)
    runner = Runner.from_cfg(cfg)
    choice = cfg.precision_choice
    runner.logger.info(f"precision {choice['precision']} on {choice['device']} "
                       f"(--precision {choice['requested']}): {choice['reason']}; "
                       f"{used['threads']} threads on {used['cores']} cores "
                       '(--threads N or OMP_NUM_THREADS=N to change)')
    if choice.get('warning'):
        runner.logger.warning(choice['warning'])
    runner.train()
