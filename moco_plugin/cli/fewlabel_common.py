"""What the few-label tools share: arguments, the backbone of a checkpoint, cached features."""
from __future__ import annotations

import argparse
import io
import os.path as osp
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

import torch
from mmengine.config import Config
from PIL import Image, ImageDraw

import moco_plugin.datasets  # noqa: F401  (registers the datasets)
import moco_plugin.engine  # noqa: F401  (safe checkpoint loading)
import moco_plugin.models  # noqa: F401
from moco_plugin.experiments.benchmark_setup import is_random_checkpoint
from moco_plugin.cli.cfg_options import CfgOptionsAction
from moco_plugin.cli.fewlabel_data import (add_pool_arguments, build_split,  # noqa: F401
                                           pool_and_labels)
from moco_plugin.cli.runtime_options import add_runtime_arguments, resolve_runtime
from moco_plugin.engine.runtime_choice import set_threads
from moco_plugin.evaluation.feature_extraction import (FeatureSet, cached_features, feature_identity,
                                                       extract_features, feature_cache_key,
                                                       make_eval_loader)
from moco_plugin.registry import MODELS
from moco_plugin.utils.atomic_io import atomic_write_bytes
from moco_plugin.utils.config_files import find_config
from moco_plugin.utils.device_precision import PrecisionChoice
from moco_plugin.utils.quiet import quiet_mmengine
from moco_plugin.zoo.backbone_loading import load_backbone_weights
from moco_plugin.utils.hashing import sha256_of_file, sha256_of_state_dict


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


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group('data')
    group.add_argument('--data-root', help='dataset folder (overrides the config)')
    group.add_argument('--subset-train', type=int, metavar='N',
                       help='use a class-balanced subset of the training split as the pool')
    group.add_argument('--subset-test', type=int, metavar='N', help='subset of the test split')
    group.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={})
    add_pool_arguments(group)


def log(prog: str, message: str) -> None:
    print(f'[{prog}] {message}', file=sys.stderr, flush=True)


def load_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(str(find_config(args.config)))
    cfg.merge_from_dict(args.cfg_options)
    if args.data_root and not osp.isdir(args.data_root):
        raise FileNotFoundError(f'--data-root {args.data_root} is not a folder; pass the dataset folder')
    return cfg


@dataclass
class Backbone:
    """The config's model with the checkpoint's backbone, and the identities of both."""

    model: Any
    checkpoint_sha256: Optional[str]
    weights_sha256: str
    identity: Dict[str, Any]


def load_model(cfg: Config, checkpoint: str, seed: int = 0) -> Backbone:
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    if is_random_checkpoint(checkpoint):
        with quiet_mmengine():
            model.init_weights()
        checkpoint_sha = None
    else:
        load_backbone_weights(model, checkpoint)  # strict; the report is not needed here
        checkpoint_sha = sha256_of_file(checkpoint) if osp.isfile(checkpoint) else None
    model.eval()
    # The same identity as tools/benchmark_linear.py, so both share the feature cache.
    identity = feature_identity(cfg.model, amp=False)
    return Backbone(model, checkpoint_sha, sha256_of_state_dict(model.backbone), identity)


def runtime_choice(args: argparse.Namespace, image_size: Optional[int]) -> PrecisionChoice:
    """``--device`` / ``--precision`` / ``--amp`` of a few-label tool, resolved for extraction
    at ``image_size`` (recorded in ``args.precision_choice`` for the tool's result files)."""
    return resolve_runtime(args, 'extract', image_size)


def _crop_size(dataset_cfg: dict) -> Optional[int]:
    sizes = [step.get('size') for step in dataset_cfg.get('pipeline') or [] if isinstance(step, dict)]
    return next((int(s) for s in sizes if isinstance(s, int)), None)


def features_of(backbone: Backbone, dataset, dataset_cfg: dict, args: argparse.Namespace,
                prog: str) -> FeatureSet:
    """Cached features of a whole split (extracted once per checkpoint and split), on
    ``--device`` in the ``--precision`` chosen for the split's crop size."""
    split = dataset_cfg.get('split') or 'pool'
    choice = runtime_choice(args, _crop_size(dataset_cfg))
    threads = set_threads(getattr(args, 'threads', None))
    backbone.model.to(choice.device)
    amp = choice.precision if choice.autocast else False
    identity = dict(backbone.identity, amp=feature_identity({}, amp)['amp'])
    key = feature_cache_key(backbone.weights_sha256, dataset,
                            dict(identity, pipeline=dataset_cfg['pipeline']))
    loader = make_eval_loader(dataset, args.batch_size, args.num_workers)
    tick = time.perf_counter()
    feats, hit = cached_features(
        key, lambda: extract_features(backbone.model, loader, f'features ({split})',
                                      amp=amp, progress=not args.quiet),
        use_cache=not args.no_cache)
    log(prog, f'{split} features {feats.features.shape}: '
        + ('from cache' if hit else f'extracted in {time.perf_counter() - tick:.1f} s')
        + f"; {choice.log_line()}; {threads['threads']} threads")
    if choice.warning and not hit:
        log(prog, f'warning: {choice.warning}')
    return feats


def contact_sheet(dataset, indices, path: str, captions=None, columns: int = 16,
                  tile: int = 64) -> None:
    """A PNG grid of the dataset's images ``indices`` (atomic write)."""
    indices = list(indices)
    columns = max(1, min(columns, len(indices)))
    rows = max(1, -(-len(indices) // columns))
    sheet = Image.new('RGB', (columns * tile, rows * (tile + 12)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for n, index in enumerate(indices):
        x, y = (n % columns) * tile, (n // columns) * (tile + 12)
        sheet.paste(dataset.get_image(int(index)).convert('RGB').resize((tile, tile)), (x, y))
        if captions is not None:
            draw.text((x + 2, y + tile), str(captions[n])[:10], fill=(0, 0, 0))
    buffer = io.BytesIO()
    sheet.save(buffer, format='PNG')
    atomic_write_bytes(buffer.getvalue(), path)
