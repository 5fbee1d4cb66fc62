"""``tools/train.py CONFIG``: pretrain with MMEngine's Runner."""
from __future__ import annotations

import argparse
import os
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional

from moco_plugin.cli.cfg_options import CfgOptionsAction, check_top_level_keys
from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.runtime_options import (add_runtime_arguments, check_runtime_arguments,
                                             resolve_runtime)
from moco_plugin.cli.train_data_args import (add_train_data_arguments, apply_train_data_arguments,
                                            check_train_data_arguments)
from moco_plugin.utils.config_files import find_config, packaged_config_names

PROG = 'train.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description='Pretrain a self-supervised model.')
    parser.add_argument('config', nargs='?',
                        help='config file or the name of a packaged config, e.g. '
                             'mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu')
    parser.add_argument('--list-configs', action='store_true', help='print the packaged configs and exit')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='auto|PATH',
                        help="resume from the latest checkpoint in the work dir ('auto', the default "
                             'when no value is given), or from PATH (a file or zoo://NAME)')
    add_runtime_arguments(parser, amp_help='same as --precision amp: mixed precision asked '
                                           'for explicitly (bf16 on a CPU, even an emulating one)')
    parser.add_argument('--data-root', help='dataset folder; overrides the config and $MOCO_DATA_ROOT')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                        help='override config keys, e.g. train_cfg.max_epochs=2 model.queue_len=1024')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='job launcher for distributed training (torchrun: pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)
    add_train_data_arguments(parser)
    args = parser.parse_args(argv)
    check_train_data_arguments(parser, args)
    if args.config is None and not args.list_configs:
        parser.error('the config is required (a file or a packaged config name; '
                     'list them with --list-configs)')
    check_runtime_arguments(parser, args)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def set_data_root(cfg, data_root: str, check: bool = True) -> None:
    """Point every dataset of every dataloader in ``cfg`` at ``data_root`` (``check``: it
    must be a folder)."""
    if check and not osp.isdir(data_root):
        raise FileNotFoundError(f'--data-root {data_root} is not a folder; pass the dataset folder')
    if 'data_root' in cfg:  # the configs' top-level variable, so the dumped config says it too
        cfg['data_root'] = data_root
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = loader.get('dataset')
        while dataset is not None:
            if 'data_root' in dataset:
                dataset['data_root'] = data_root
            dataset = dataset.get('dataset')  # wrappers such as RepeatDataset


def build_config(args: argparse.Namespace):
    from mmengine.config import Config

    from moco_plugin.engine.runtime_choice import apply_precision
    from moco_plugin.utils.device_precision import resolve_device

    args.device = resolve_device(args.device)

    config_path = find_config(args.config)
    cfg = Config.fromfile(str(config_path))
    check_top_level_keys(cfg.keys(), args.cfg_options)  # a typo is not silently ignored
    cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.data_root:
        set_data_root(cfg, args.data_root)
    apply_train_data_arguments(cfg, args)  # --train-data: the user's images, sizes, monitor
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', config_path.stem)
    if not args.device.startswith('cuda'):
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        if cfg.launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
            # MMEngine wraps with device_ids=[LOCAL_RANK], which DDP rejects for a CPU
            # module. No buffer broadcast before each forward, as MMEngine's GPU wrapping
            # (broadcast_buffers=False, a deprecated name in torch 2.14): BN statistics stay
            # per rank, and QueueHook keeps the queues equal without rank 0 overwriting them.
            cfg.model_wrapper_cfg = dict(
                type='MMDistributedDataParallel', device_ids=None, forward_sync_buffers=False,
                find_unused_parameters=cfg.get('find_unused_parameters', False))
    apply_precision(cfg, resolve_runtime(args, 'train'))
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def check_resumable(source: str) -> None:
    """Fail early, in one line, when ``source`` cannot be resumed from."""
    from mmengine.runner.checkpoint import CheckpointLoader

    if '://' not in source and not osp.isfile(source):
        raise FileNotFoundError(f'--resume {source}: no such checkpoint file')
    checkpoint = CheckpointLoader.load_checkpoint(source, map_location='cpu', logger='silent')
    meta = checkpoint.get('meta') or {} if isinstance(checkpoint, dict) else {}
    if 'epoch' not in meta or 'optimizer' not in checkpoint:
        raise ValueError(f'--resume {source}: the checkpoint holds weights but no training state '
                         '(epoch, optimizer); to start from its weights use '
                         f'--cfg-options load_from={source} instead of --resume')


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


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.list_configs:
        print('\n'.join(packaged_config_names()))
        return

    def _run() -> None:
        import torch
        from mmengine.runner import Runner

        from moco_plugin.engine.runtime_choice import set_threads

        import moco_plugin.datasets  # noqa: F401  (registers components, safe loading, atomic saving)
        import moco_plugin.engine  # noqa: F401
        import moco_plugin.models  # noqa: F401
        import moco_plugin.zoo  # noqa: F401  (zoo:// in load_from / --resume; official layouts)

        if args.device == 'cpu':  # before anything initialises CUDA: MMEngine then runs on the CPU
            os.environ['CUDA_VISIBLE_DEVICES'] = ''
        cfg = build_config(args)
        if args.device.startswith('cuda:'):
            torch.cuda.set_device(int(args.device.split(':')[1]))
        threads = set_threads(args.threads)
        if cfg.resume and cfg.load_from:
            check_resumable(cfg.load_from)
        if cfg.launcher != 'none' and not args.device.startswith('cuda'):
            init_cpu_process_group(cfg.env_cfg.get('dist_cfg', {}), cfg.launcher)
        runner = Runner.from_cfg(cfg)
        choice = cfg.precision_choice
        runner.logger.info(f"precision {choice['precision']} on {choice['device']} "
                           f"(--precision {choice['requested']}): {choice['reason']}; "
                           f"{threads['threads']} threads on {threads['cores']} cores "
                           '(--threads N or OMP_NUM_THREADS=N to change)')
        if choice.get('warning'):
            runner.logger.warning(choice['warning'])
        runner.train()

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
