"""``tools/benchmark_linear.py CONFIG CHECKPOINT``: k-NN and linear benchmarks of a frozen backbone.

Evaluate one checkpoint of any registered algorithm::

    python tools/benchmark_linear.py configs/mocov2/mocov2_resnet18_1xb256-coslr-200e_cifar10.py \\
        work_dirs/mocov2/epoch_200.pth --knn --linear --out results/mocov2.json

Compare several result files::

    python tools/benchmark_linear.py --compare results/*.json \\
        --out benchmarks/comparison.md --plot benchmarks/comparison.png
"""
from __future__ import annotations

import argparse
import datetime
import os.path as osp
import shlex
import sys
import time
from collections import Counter
from typing import Any, Dict, List, Optional

from moco_plugin.cli.errors import run_cli

PROG = 'benchmark_linear.py'
RANDOM_CHECKPOINTS = ('none', 'random')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from moco_plugin.cli.cfg_options import CfgOptionsAction
    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description='k-NN and linear-probe benchmarks of a frozen pretrained backbone, or '
                    '(--compare) a table and plot of several results.')
    parser.add_argument('config', nargs='?', help='config of the model and the dataset')
    parser.add_argument('checkpoint', nargs='?',
                        help="checkpoint: a .pth path, zoo://NAME, or 'random'/'none' for the "
                             'untrained (random-init) backbone')
    what = parser.add_argument_group('what to run (default: --knn --linear)')
    what.add_argument('--knn', action='store_true', help='weighted k-NN classification')
    what.add_argument('--linear', action='store_true', help='linear probe on the frozen backbone')
    what.add_argument('--retrieval', type=int, default=0, metavar='N',
                      help='also write a PNG of N test images and their 8 nearest training images')
    knn = parser.add_argument_group('k-NN')
    knn.add_argument('--k', type=int, nargs='+', default=[200], help='neighbour counts, evaluated in one pass')
    knn.add_argument('--temperature', type=float, default=0.1, help='vote weight exp(sim / T)')
    lin = parser.add_argument_group('linear probe (MoCo protocol defaults)')
    lin.add_argument('--linear-epochs', type=int, default=100)
    lin.add_argument('--linear-lr', type=float, nargs='+', default=[30.0], metavar='LR',
                     help='base lr; several values: each is trained on the training split minus '
                          'a held-out part (--linear-val-fraction), the best on that part is '
                          'retrained on the whole training split and tested')
    lin.add_argument('--linear-val-fraction', type=float, default=0.1,
                     help='share of each training class held out to choose among several '
                          '--linear-lr values (the test split is never used to choose)')
    lin.add_argument('--linear-momentum', type=float, default=0.9)
    lin.add_argument('--linear-wd', type=float, default=0.0, help='weight decay')
    lin.add_argument('--linear-batch-size', type=int, default=256)
    lin.add_argument('--linear-schedule', choices=['cos', 'step'], default='cos',
                     help='per-epoch cosine, or x0.1 at 60%% and 80%% of the epochs')
    lin.add_argument('--linear-aug', action='store_true',
                     help='train-time augmentation (RandomResizedCrop + flip): every epoch runs '
                          'the backbone on new crops (slow); default: cached features')
    lin.add_argument('--linear-normalize', action='store_true',
                     help='L2-normalise features first (not MoCo protocol; use a smaller lr)')
    data = parser.add_argument_group('data')
    data.add_argument('--data-root', help='dataset folder; overrides the config and $MOCO_DATA_ROOT')
    data.add_argument('--subset-train', type=int, metavar='N',
                      help='class-balanced subset of the training split (bank / linear train)')
    data.add_argument('--subset-test', type=int, metavar='N', help='subset of the test split')
    data.add_argument('--subset-seed', type=int, default=0)
    data.add_argument('--train-split', help='bank / linear-train split (default: train)')
    data.add_argument('--test-split', help='test split (default: test for CIFAR-10, else val)')
    data.add_argument('--image-size', type=int, help='evaluation crop (default: 32 for CIFAR-10, else 224)')
    run = parser.add_argument_group('runtime')
    run.add_argument('--batch-size', type=int, default=256, help='feature-extraction batch size')
    run.add_argument('--num-workers', type=int, default=2, help='data-loader workers')
    run.add_argument('--device', help='cpu or cuda (default: cuda when available)')
    run.add_argument('--amp', action='store_true', help='bf16 (CPU) / fp16 (CUDA) autocast for extraction')
    run.add_argument('--no-cache', action='store_true', help='recompute features, do not store them')
    run.add_argument('--seed', type=int, default=0,
                     help='seed of the random-init weights and of the linear probe')
    run.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                     help='override config keys, e.g. model.backbone.cifar_stem=False')
    out = parser.add_argument_group('output')
    out.add_argument('--out', help='result JSON (default results/<name>.json); with --compare: '
                                   'the markdown table (default benchmarks/comparison.md)')
    out.add_argument('--name', help='row name (default: config name, +"-random" for random init)')
    out.add_argument('--markdown', help='markdown file the result row is appended to '
                                        '(default: results.md next to --out)')
    out.add_argument('--quiet', action='store_true', help='no progress bars')
    cmp_ = parser.add_argument_group('comparison')
    cmp_.add_argument('--compare', nargs='+', metavar='RESULT.json',
                      help='result files to put side by side (no CONFIG/CHECKPOINT then)')
    cmp_.add_argument('--plot', help='comparison PNG (default: the --out path with .png)')
    cmp_.add_argument('--title', default='SSL benchmark', help='comparison title')
    args = parser.parse_args(argv)

    if args.compare:
        if args.config or args.checkpoint:
            parser.error('--compare takes result files only, not CONFIG CHECKPOINT')
        return args
    if not args.config or not args.checkpoint:
        parser.error('CONFIG and CHECKPOINT are required (or use --compare RESULT.json ...)')
    if not (args.knn or args.linear):
        args.knn = args.linear = True
    problems = []
    if any(k < 1 for k in args.k):
        problems.append(f'--k values must be >= 1, got {args.k}')
    if args.temperature <= 0:
        problems.append(f'--temperature must be > 0, got {args.temperature}')
    for flag in ('subset_train', 'subset_test'):
        value = getattr(args, flag)
        if value is not None and value < 1:
            problems.append(f"--{flag.replace('_', '-')} must be >= 1, got {value}")
    for flag in ('linear_epochs', 'linear_batch_size', 'batch_size'):
        if getattr(args, flag) < 1:
            problems.append(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")
    if any(lr <= 0 for lr in args.linear_lr):
        problems.append(f'--linear-lr values must be > 0, got {args.linear_lr}')
    if not 0 < args.linear_val_fraction < 1:
        problems.append(f'--linear-val-fraction must be in (0, 1), got {args.linear_val_fraction}')
    if args.linear_aug and len(args.linear_lr) > 1:
        problems.append('--linear-aug takes one --linear-lr (the lr sweep runs on cached '
                        'features); choose the lr without --linear-aug first')
    if args.retrieval < 0:
        problems.append(f'--retrieval must be >= 0, got {args.retrieval}')
    if problems:
        parser.error('; '.join(problems))
    return args


def log(message: str) -> None:
    print(f'[benchmark] {message}', file=sys.stderr, flush=True)


def is_random_checkpoint(checkpoint: str) -> bool:
    return checkpoint.lower() in RANDOM_CHECKPOINTS


def load_backbone_weights(model, checkpoint: str) -> Dict[str, Any]:
    """Load ``backbone.*`` of ``checkpoint`` strictly into ``model.backbone``; report the rest.

    Returns:
        Pretraining information found in the checkpoint (epochs, iterations,
        summed iteration time, k-NN monitor history).

    Raises:
        FileNotFoundError: A local checkpoint path does not exist.
        ValueError: No ``backbone.*`` weights, or they do not fit the config's backbone.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f"checkpoint not found: {checkpoint}; pass a .pth file, zoo://NAME, "
                                "or 'random' for the random-init baseline")
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = loaded.get('state_dict', loaded) if isinstance(loaded, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint} holds no state dict ({type(loaded).__name__})')
    if state and all(k.startswith('module.') for k in state):  # saved from a DDP-wrapped model
        state = {k[len('module.'):]: v for k, v in state.items()}
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    if not backbone:
        first = ', '.join(list(state)[:5])
        raise ValueError(f'{checkpoint} has no backbone.* weights (first keys: {first}); a '
                         'moco_plugin / MMEngine checkpoint is expected (convert official '
                         'releases with moco-convert)')
    try:
        report = model.backbone.load_state_dict(backbone, strict=False)
    except RuntimeError as err:  # shape mismatches raise even with strict=False
        lines = [ln.strip() for ln in str(err).splitlines() if 'size mismatch' in ln]
        detail = '; '.join(lines[:3]) or ' '.join(str(err).split())[:300]
        raise ValueError(f'backbone weights of {checkpoint} do not fit the config\'s backbone '
                         f'({detail}); check the config (depth, cifar_stem)') from None
    if report.missing_keys or report.unexpected_keys:
        raise ValueError(f"backbone weights of {checkpoint} do not fit the config's backbone: "
                         f'missing {report.missing_keys[:10]}, unexpected '
                         f'{report.unexpected_keys[:10]}; check the config (depth, cifar_stem)')
    others = Counter(k.split('.')[0] for k in state if not k.startswith('backbone.'))
    log(f'loaded {len(backbone)} backbone tensors from {checkpoint}; not used for evaluation: '
        + (', '.join(f'{name} ({n})' for name, n in sorted(others.items())) or 'nothing'))
    model_keys = {k for k in model.state_dict() if not k.startswith('backbone.')}
    ckpt_keys = {k for k in state if not k.startswith('backbone.')}
    if model_keys - ckpt_keys or ckpt_keys - model_keys:
        log(f'warning: outside the backbone the checkpoint and the config\'s {type(model).__name__} '
            f'differ (missing in checkpoint: {sorted(model_keys - ckpt_keys)[:6]}, not in model: '
            f'{sorted(ckpt_keys - model_keys)[:6]}); was it pretrained with another config?')
    meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
    info: Dict[str, Any] = dict(epochs=meta.get('epoch'), iters=meta.get('iter'),
                                experiment=meta.get('experiment_name'))
    hub = loaded.get('message_hub') if isinstance(loaded, dict) else None
    try:  # MMEngine's per-iteration times: their sum is the pretraining compute time
        times = hub['log_scalars']['train/time'].data[0]
        info['wall_time_s'] = float(sum(float(t) for t in times))
    except (KeyError, TypeError, AttributeError, IndexError):
        info['wall_time_s'] = None
    if meta.get('knn_history'):
        info['knn_monitor'] = [dict(h) for h in meta['knn_history']]
    return info


def _build_cfg(args: argparse.Namespace):
    from mmengine.config import Config
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}; see configs/ for the available ones')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.data_root and not osp.isdir(args.data_root):
        raise FileNotFoundError(f'--data-root {args.data_root} is not a folder; pass the dataset folder')
    return cfg


def benchmark(args: argparse.Namespace) -> Dict[str, Any]:
    """Run the requested evaluations for one config + checkpoint; return the result dict."""
    import dataclasses

    import numpy as np
    import torch

    import moco_plugin.datasets  # noqa: F401  (registers components, safe checkpoint loading)
    import moco_plugin.engine  # noqa: F401
    import moco_plugin.models  # noqa: F401
    from moco_plugin.evaluation import (LinearProbeSettings, cached_features, extract_features,
                                        feature_cache_key, knn_classify, linear_probe_on_features,
                                        linear_probe_with_augmentation, make_eval_loader,
                                        plot_linear_curve, retrieval_grid, save_linear_head,
                                        sha256_of_file, sha256_of_state_dict)
    from moco_plugin.evaluation.eval_datasets import (build_eval_dataset, build_eval_datasets,
                                                      dataset_type_name,
                                                      default_image_size, default_splits,
                                                      eval_dataset_cfg, pretraining_dataset_cfg)
    from moco_plugin.evaluation.linear_lr_sweep import sweep_linear_lr
    from moco_plugin.evaluation.results import append_markdown_row, markdown_row, write_json
    from moco_plugin.registry import MODELS

    started = time.perf_counter()
    times: Dict[str, float] = {}
    cfg = _build_cfg(args)
    random_init = is_random_checkpoint(args.checkpoint)
    if not random_init and '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f"checkpoint not found: {args.checkpoint}; pass a .pth file, "
                                "zoo://NAME, or 'random' for the random-init baseline")
    config_name = osp.splitext(osp.basename(args.config))[0]
    name = args.name or (config_name + ('-random' if random_init and 'random' not in config_name
                                        else ''))
    out_path = args.out or osp.join('results', f'{name}.json')
    stem = osp.splitext(out_path)[0]

    # Datasets first: a missing dataset should fail before any model work.
    source = pretraining_dataset_cfg(cfg)
    train_split, test_split = default_splits(source)
    train_split, test_split = args.train_split or train_split, args.test_split or test_split
    image_size = args.image_size or default_image_size(source)
    common = dict(image_size=image_size, subset_seed=args.subset_seed, data_root=args.data_root)
    train_cfg = eval_dataset_cfg(source, train_split, subset_size=args.subset_train, **common)
    test_cfg = eval_dataset_cfg(source, test_split, subset_size=args.subset_test, **common)
    train_set, test_set = build_eval_datasets(train_cfg, test_cfg)  # one class list
    num_classes = len(getattr(train_set, 'classes', []) or []) or None
    log(f'data: {dataset_type_name(source)} {train_split} ({len(train_set)} images) / '
        f'{test_split} ({len(test_set)} images), {image_size} px')

    # The model: the config's algorithm, its backbone from the checkpoint (or random).
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    if random_init:
        model.init_weights()
        pretrain: Dict[str, Any] = dict(epochs=0, iters=0, wall_time_s=0.0)
        checkpoint_sha = None
        log(f'random-init backbone (seed {args.seed})')
    else:
        pretrain = load_backbone_weights(model, args.checkpoint)
        checkpoint_sha = sha256_of_file(args.checkpoint) if osp.isfile(args.checkpoint) else None
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    model.to(device).eval()
    weights_sha = sha256_of_state_dict(model.backbone)
    model_identity = dict(backbone=cfg.model.get('backbone'),
                          data_preprocessor=cfg.model.get('data_preprocessor'),
                          amp=bool(args.amp))

    def features_of(dataset, split: str, dataset_cfg: dict):
        key = feature_cache_key(weights_sha, dataset,
                                dict(model_identity, pipeline=dataset_cfg['pipeline']))
        loader = make_eval_loader(dataset, args.batch_size, args.num_workers)
        tick = time.perf_counter()
        feats, hit = cached_features(
            key, lambda: extract_features(model, loader, f'features ({split})', args.amp,
                                          progress=not args.quiet),
            use_cache=not args.no_cache)
        times[f'features_{split}_s'] = time.perf_counter() - tick
        log(f'{split} features {feats.features.shape}: '
            + ('from cache' if hit else f'extracted in {times[f"features_{split}_s"]:.1f} s'))
        return feats, hit

    # The augmented linear probe runs the backbone itself: train features only serve k-NN / retrieval.
    need_train = args.knn or args.retrieval or (args.linear and not args.linear_aug)
    train_feats, train_hit = features_of(train_set, 'train', train_cfg) if need_train else (None, None)
    test_feats, test_hit = features_of(test_set, 'test', test_cfg)

    result: Dict[str, Any] = dict(
        schema=1, name=name, algorithm=type(model).__name__, config=args.config,
        checkpoint=args.checkpoint, checkpoint_sha256=checkpoint_sha, weights_sha256=weights_sha,
        random_init_seed=args.seed if random_init else None, pretrain=pretrain,
        dataset=dict(type=dataset_type_name(source), data_root=train_set.data_root
                     if hasattr(train_set, 'data_root') else None, train_split=train_split,
                     test_split=test_split, image_size=image_size, subset_train=args.subset_train,
                     subset_test=args.subset_test, subset_seed=args.subset_seed,
                     classes=list(getattr(train_set, 'classes', []) or [])),
        n_train=len(train_set), n_test=len(test_feats), feature_dim=int(test_feats.features.shape[1]),
        feature_cache_hit=dict(train=train_hit, test=test_hit))
    if pretrain.get('knn_monitor'):
        result['knn_monitor'] = pretrain.pop('knn_monitor')

    if args.knn:
        tick = time.perf_counter()
        scores = knn_classify(train_feats.features, train_feats.labels, test_feats.features,
                              test_feats.labels, args.k, args.temperature, num_classes)
        times['knn_s'] = time.perf_counter() - tick
        result['knn'] = {str(k): v for k, v in scores.items()}
        result['knn_temperature'] = args.temperature
        for k, v in scores.items():
            log(f"k-NN k={k} (used {v['k_used']}), T={args.temperature}: "
                f"top-1 {v['top1']:.2f}%, top-5 {v['top5']:.2f}%")

    if args.linear:
        settings = LinearProbeSettings(
            epochs=args.linear_epochs, lr=args.linear_lr[0], momentum=args.linear_momentum,
            weight_decay=args.linear_wd, batch_size=args.linear_batch_size,
            schedule=args.linear_schedule, normalize=args.linear_normalize, seed=args.seed)
        tick = time.perf_counter()
        sweep = None
        if len(args.linear_lr) > 1:
            sweep = sweep_linear_lr(train_feats, args.linear_lr, settings,
                                    args.linear_val_fraction, num_classes, not args.quiet, log)
            settings = dataclasses.replace(settings, lr=sweep.selected_lr)
            times['linear_sweep_s'] = time.perf_counter() - tick
            log(f'lr sweep on {sweep.n_val} held-out training images: selected lr '
                f'{sweep.selected_lr:g}; retraining on all {len(train_feats)} training images')
        if args.linear_aug:
            aug_set = build_eval_dataset(eval_dataset_cfg(source, train_split, train_augment=True,
                                                          subset_size=args.subset_train, **common))
            aug_loader = torch.utils.data.DataLoader(
                aug_set, batch_size=args.linear_batch_size, shuffle=True,
                num_workers=args.num_workers, drop_last=False)
            probe = linear_probe_with_augmentation(model, aug_loader, test_feats, settings,
                                                   num_classes, args.amp, not args.quiet)
        else:
            probe = linear_probe_on_features(train_feats, test_feats, settings, num_classes,
                                             not args.quiet)
        times['linear_s'] = time.perf_counter() - tick
        head_path, curve_path = f'{stem}_linear_head.pth', f'{stem}_linear_curve.png'
        save_linear_head(probe, head_path, dict(
            algorithm=result['algorithm'], config=args.config, checkpoint=args.checkpoint,
            checkpoint_sha256=checkpoint_sha, weights_sha256=weights_sha, augment=args.linear_aug))
        plot_linear_curve(probe.curve, curve_path,
                          f"{name}: linear probe ({'augmented' if args.linear_aug else 'cached features'})")
        result['linear'] = dict(top1=probe.top1, top5=probe.top5,
                                best_top1=max(c['top1'] for c in probe.curve), augment=args.linear_aug,
                                settings={k: (list(v) if isinstance(v, tuple) else v)
                                          for k, v in settings.__dict__.items()},
                                lr_sweep=sweep.to_json() if sweep is not None else None,
                                head_checkpoint=head_path, curve_png=curve_path, curve=probe.curve)
        log(f'linear probe ({settings.epochs} epochs): top-1 {probe.top1:.2f}%, '
            f'top-5 {probe.top5:.2f}%; head saved to {head_path}')

    if args.retrieval:
        tick = time.perf_counter()
        picture = f'{stem}_retrieval.png'
        retrieval_grid(test_feats, train_feats, test_set, train_set, picture,
                       num_queries=args.retrieval, k=8, seed=args.seed,
                       class_names=getattr(train_set, 'classes', None))
        times['retrieval_s'] = time.perf_counter() - tick
        result['retrieval_png'] = picture
        log(f'retrieval picture saved to {picture}')

    times['total_s'] = time.perf_counter() - started
    result['times'] = {k: round(v, 3) for k, v in times.items()}
    result['command'] = ' '.join(['python', 'tools/benchmark_linear.py'] +
                                 [shlex.quote(a) for a in getattr(args, 'argv', [])])
    result['created'] = datetime.datetime.now().isoformat(timespec='seconds')
    result['versions'] = dict(torch=torch.__version__, numpy=np.__version__)
    write_json(result, out_path)
    markdown_path = args.markdown or osp.join(osp.dirname(out_path) or '.', 'results.md')
    append_markdown_row(result, markdown_path)
    print(markdown_row(result))
    log(f'result written to {out_path}; row appended to {markdown_path}')
    return result


def compare(args: argparse.Namespace) -> str:
    from moco_plugin.evaluation.compare import write_comparison
    from moco_plugin.evaluation.results import load_results
    results = load_results(args.compare)
    markdown_path = args.out or osp.join('benchmarks', 'comparison.md')
    plot_path = args.plot or osp.splitext(markdown_path)[0] + '.png'
    text = write_comparison(results, markdown_path, plot_path, args.title)
    print(text)
    log(f'comparison of {len(results)} results written to {markdown_path} and {plot_path}')
    return text


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    def _run() -> None:
        if args.compare:
            compare(args)
        else:
            benchmark(args)

    run_cli(PROG, _run)


if __name__ == '__main__':
    main()
