"""``--device``, ``--precision``, ``--amp`` and ``--threads``: the options every tool that
trains or extracts features shares (resolved by :mod:`moco_plugin.utils.device_precision`)."""
from __future__ import annotations

import argparse
from typing import Optional

from moco_plugin.utils.device_precision import DEVICE_HELP, PRECISION_CHOICES, PrecisionChoice

PRECISION_HELP = ("auto (default): bf16 autocast where this machine runs it natively (a CPU "
                  "with AVX-512 BF16 or AMX as torch reports it; a GPU with bf16), else fp32 "
                  "(fp16 with a loss scaler on older GPUs); fp32, bf16 or fp16 force one; amp = "
                  "--amp")


def add_runtime_arguments(parser: argparse.ArgumentParser, amp_help: str,
                          threads: bool = True) -> argparse._ArgumentGroup:
    group = parser.add_argument_group('device and precision')
    group.add_argument('--device', help=DEVICE_HELP)
    group.add_argument('--precision', choices=PRECISION_CHOICES, default='auto',
                       help=PRECISION_HELP)
    group.add_argument('--amp', action='store_true', help=amp_help)
    if threads:
        group.add_argument('--threads', type=int, metavar='N',
                           help='intra-op threads of this process (default: $MOCO_NUM_THREADS, '
                                'else $OMP_NUM_THREADS, else the cores it may use)')
    return group


def check_runtime_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fold ``--amp`` into ``args.precision`` (``'amp'``); contradictions are argparse errors."""
    try:
        args.precision = requested_precision(args)
    except ValueError as err:
        parser.error(str(err))
    args.precision_request = args.precision  # what was asked; args.precision becomes what runs
    if getattr(args, 'threads', None) is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1, got {args.threads}')


def requested_precision(args: argparse.Namespace) -> str:
    """:func:`moco_plugin.engine.runtime_choice.requested_precision` (imported on use, so
    parsing arguments does not load the engine)."""
    from moco_plugin.engine.runtime_choice import requested_precision as requested
    return requested(args)


def resolve_runtime(args: argparse.Namespace, task: str,
                    image_size: Optional[int] = None) -> PrecisionChoice:
    """:func:`moco_plugin.engine.runtime_choice.resolve_runtime`, imported on use."""
    from moco_plugin.engine.runtime_choice import resolve_runtime as resolve
    return resolve(args, task, image_size)
