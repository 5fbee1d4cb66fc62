"""``tools/train.py CONFIG --train-data PATH``: pretrain on a user's own images, no config editing."""
from __future__ import annotations

import argparse


def add_train_data_arguments(parser: argparse.ArgumentParser) -> None:
    """``--train-data``, ``--image-size``, ``--on-bad-image``, ``--monitor-data``/``--no-monitor``."""
    group = parser.add_argument_group(
        'your own images', 'pretrain on a folder (any layout, any depth) or a CSV/TSV of image '
        'paths instead of the config\'s dataset')
    group.add_argument('--train-data', metavar='PATH',
                       help='folder of images (class folders or not: labels are not needed) or '
                            'a CSV/TSV with a path column (paths relative to its folder)')
    group.add_argument('--image-size', type=int, metavar='N',
                       help="side the images are decoded and trained at (resize the shorter side "
                            "+ centre crop; default: the config's training size)")
    group.add_argument('--on-bad-image', choices=['skip', 'error'], default=None,
                       help='an image that cannot be decoded is listed in the log and skipped '
                            '(skip, the default), or stops the run before training (error)')
    monitor = group.add_mutually_exclusive_group()
    monitor.add_argument('--monitor-data', metavar='PATH',
                         help='labelled images for the k-NN monitor: a folder of class folders '
                              '(or with train/ and val/ split folders) or a CSV with path,label '
                              'columns; split 80/20 per class into bank and queries')
    monitor.add_argument('--no-monitor', action='store_true',
                         help='no k-NN monitor (the default with --train-data without '
                              '--monitor-data)')


def check_train_data_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse combinations that contradict each other (argparse errors, exit 2)."""
    if args.train_data and getattr(args, 'data_root', None):
        parser.error('--train-data and --data-root both name the training data; pass one: '
                     '--train-data for your own images, --data-root for the config\'s dataset')
    if not args.train_data:
        given = [name for name, value in (('--image-size', args.image_size),
                                          ('--on-bad-image', args.on_bad_image),
                                          ('--monitor-data', args.monitor_data),
                                          ('--no-monitor', args.no_monitor)) if value]
        if given:
            parser.error(f'{", ".join(given)} apply to --train-data; add --train-data PATH (for '
                         "the config's dataset use --cfg-options)")


def train_data_of(args: argparse.Namespace):
    """``--train-data`` and its options as :class:`~moco_plugin.engine.train_config.TrainData`
    (``None`` without ``--train-data``)."""
    if not getattr(args, 'train_data', None):
        return None
    from moco_plugin.engine.train_config import TrainData

    return TrainData(args.train_data, args.image_size, args.on_bad_image, args.monitor_data,
                     args.no_monitor)
