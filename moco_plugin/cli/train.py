"""``tools/train.py CONFIG``: pretrain with MMEngine's Runner.

The arguments are parsed here; the config is built by
:func:`moco_plugin.engine.train_config.build_train_config`.
"""
from __future__ import annotations

import argparse
import os
from typing import List, Optional

from moco_plugin.cli.cfg_options import CfgOptionsAction
from moco_plugin.cli.errors import run_cli
from moco_plugin.cli.runtime_options import (add_runtime_arguments, check_runtime_arguments,
                                             requested_precision)
from moco_plugin.cli.train_data_args import (add_train_data_arguments, check_train_data_arguments,
                                            train_data_of)
from moco_plugin.engine.cpu_distributed import slurm_environment  # noqa: F401  (its home)
from moco_plugin.engine.train_config import set_data_root  # noqa: F401  (its home)
from moco_plugin.utils.config_files import packaged_config_names

PROG = 'train.py'


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', nargs='?',
                        help='config file or the name of a packaged config, e.g. '
                             'mocov2_resnet18_1xb64-adamw-coslr-2e_cifar10-20k-cpu')
    parser.add_argument('--list-configs', action='store_true', help='print the packaged configs and exit')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='auto|PATH',
                        help="resume from the latest checkpoint in the work dir ('auto', the default "
                             'when no value is given), or from PATH (a file or zoo://NAME)')


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--data-root', help='dataset folder; overrides the config and $MOCO_DATA_ROOT')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                        help='override config keys, e.g. train_cfg.max_epochs=2 model.queue_len=1024')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='job launcher for distributed training (torchrun: pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help=argparse.SUPPRESS)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description='Pretrain a self-supervised model.')
    _add_run_arguments(parser)
    add_runtime_arguments(parser, amp_help='same as --precision amp: mixed precision asked '
                                           'for explicitly (bf16 on a CPU, even an emulating one)')
    _add_config_arguments(parser)
    add_train_data_arguments(parser)
    args = parser.parse_args(argv)
    check_train_data_arguments(parser, args)
    if args.config is None and not args.list_configs:
        parser.error('the config is required (a file or a packaged config name; '
                     'list them with --list-configs)')
    check_runtime_arguments(parser, args)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _print_note(note: str) -> None:
    if os.environ.get('RANK', '0') == '0':
        print(f'train.py: {note}', flush=True)


def build_config(args: argparse.Namespace):
    """The config ``args`` ask for; resolves ``args.device`` and records
    ``args.precision_choice``."""
    from moco_plugin.engine.train_config import TrainOptions, build_train_config
    from moco_plugin.utils.device_precision import resolve_device

    args.device = resolve_device(args.device)
    options = TrainOptions(config=args.config, device=args.device,
                           precision=requested_precision(args), work_dir=args.work_dir,
                           resume=args.resume, data_root=args.data_root,
                           cfg_options=args.cfg_options, launcher=args.launcher,
                           train_data=train_data_of(args))
    cfg, choice = build_train_config(options, notify=_print_note)
    args.precision_choice = choice.as_dict()
    return cfg


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.list_configs:
        print('\n'.join(packaged_config_names()))
        return

    def _run() -> None:
        import moco_plugin.datasets  # noqa: F401  (registers components, safe loading, atomic saving)
        import moco_plugin.engine  # noqa: F401
        import moco_plugin.models  # noqa: F401
        import moco_plugin.zoo  # noqa: F401  (zoo:// in load_from / --resume; official layouts)
        from moco_plugin.engine.train_runner import run_training

        if args.device == 'cpu':  # before anything initialises CUDA: MMEngine then runs on the CPU
            os.environ['CUDA_VISIBLE_DEVICES'] = ''
        run_training(build_config(args), args.device, args.threads)

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
