"""What the few-label tools share: the model and runtime arguments, and their conversion
into the package's options (:mod:`moco_plugin.experiments.fewlabel_setup`).

``load_config``, ``build_split``, ``pool_and_labels``, ``load_model`` and ``features_of``
take parsed arguments (any object with the options' names) for scripts such as
``benchmarks/few_labels.py``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Optional

from moco_plugin.cli.fewlabel_data import add_data_arguments, data_options  # noqa: F401
from moco_plugin.cli.runtime_options import add_runtime_arguments, requested_precision
from moco_plugin.experiments import fewlabel_setup as setup
from moco_plugin.fewlabel.features import ExtractionOptions, FeatureExtractor
from moco_plugin.fewlabel.splits import build_split as _build_split
from moco_plugin.fewlabel.splits import pool_and_labels as _pool_and_labels


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """CONFIG CHECKPOINT and the data / runtime options of every few-label tool."""
    parser.add_argument('config', help='pretraining config (path or packaged name): backbone + dataset')
    parser.add_argument('checkpoint', help="checkpoint (.pth, zoo://NAME) or 'random' (random init)")
    add_data_arguments(parser)
    group = parser.add_argument_group('runtime')
    group.add_argument('--batch-size', type=int, default=256, help='feature-extraction batch size')
    group.add_argument('--num-workers', type=int, default=2)
    group.add_argument('--no-cache', action='store_true', help='recompute features')
    group.add_argument('--seed', type=int, default=0)
    group.add_argument('--quiet', action='store_true', help='no progress bars')
    add_runtime_arguments(parser, amp_help='same as --precision amp: mixed-precision extraction '
                                           'asked for explicitly')


def log(prog: str, message: str) -> None:
    print(f'[{prog}] {message}', file=sys.stderr, flush=True)


def extraction_options(args) -> ExtractionOptions:
    return ExtractionOptions(batch_size=args.batch_size, num_workers=args.num_workers,
                             use_cache=not args.no_cache, progress=not args.quiet,
                             device=getattr(args, 'device', None),
                             precision=requested_precision(args),
                             threads=getattr(args, 'threads', None))


def model_of(args, config: Optional[str] = None,
             checkpoint: Optional[str] = None) -> setup.FewLabelModel:
    """The config + checkpoint of ``args`` (or those given) with the data and runtime options."""
    return setup.FewLabelModel(config or args.config, checkpoint or args.checkpoint,
                               data_options(args), extraction_options(args),
                               getattr(args, 'seed', 0))


def load_config(args):
    return setup.load_fewlabel_config(args.config, data_options(args))


def build_split(cfg, args, which: str, checkpoint: Optional[str] = None, pool=None,
                classes=None):
    data = data_options(args)
    return _build_split(cfg, data, which, setup.image_size(cfg, data, checkpoint), pool=pool,
                        classes=classes)


def pool_and_labels(cfg, args, label_file: str, checkpoint: Optional[str] = None):
    data = data_options(args)
    return _pool_and_labels(cfg, data, label_file, setup.image_size(cfg, data, checkpoint))


def load_model(cfg, checkpoint: str, seed: int = 0):
    return setup.load_evaluation_backbone(cfg.model, checkpoint, seed)


def features_of(backbone, dataset, dataset_cfg: dict, args, prog: str):
    """Cached features of a whole split (``args.precision_choice`` records the choice)."""
    extractor = FeatureExtractor(extraction_options(args), lambda m: log(prog, m))
    feats = extractor.features(backbone, dataset, dataset_cfg)
    args.precision_choice = extractor.precision_choice
    return feats
