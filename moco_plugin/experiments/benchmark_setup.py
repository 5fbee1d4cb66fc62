"""What every benchmark of ``tools/benchmark.py`` shares: config, data, model, features.

:func:`prepare` builds it once; the benchmarks in
:mod:`moco_plugin.experiments.benchmark_steps` read it. Datasets are built first, so a
missing dataset fails before any model work.
"""
from __future__ import annotations

import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional

import torch
from mmengine.config import Config
from torch import nn

from moco_plugin.engine.config_overrides import check_top_level_keys
from moco_plugin.engine.runtime_choice import resolve_runtime, set_threads
from moco_plugin.evaluation import (FeatureSet, cached_features, extract_features,
                                    feature_cache_key, make_eval_loader, sha256_of_file,
                                    sha256_of_state_dict)
from moco_plugin.evaluation.feature_extraction import feature_identity
from moco_plugin.evaluation.eval_datasets import (build_eval_dataset, build_eval_datasets,
                                                  check_labelled, dataset_type_name,
                                                  default_image_size, default_splits,
                                                  eval_dataset_cfg, external_dataset_cfg,
                                                  pretraining_dataset_cfg, training_image_size)
from moco_plugin.evaluation.eval_data_root import eval_data_cfgs
from moco_plugin.experiments.benchmark_settings import BenchmarkSettings
from moco_plugin.registry import MODELS
from moco_plugin.utils.config_files import find_config
from moco_plugin.utils.quiet import quiet_mmengine
from moco_plugin.zoo.backbone_loading import (evaluation_image_size, is_random_checkpoint,  # noqa: F401
                                            load_backbone_weights)

Log = Callable[[str], None]


@dataclass
class BenchmarkContext:
    """One config + checkpoint, ready to be evaluated."""

    cfg: Any
    config_path: str
    name: str
    out_path: str
    source: dict
    train_split: str
    test_split: str
    image_size: int
    train_cfg: Dict[str, Any]
    train_set: Any
    test_set: Any
    num_classes: Optional[int]
    model: nn.Module
    random_init: bool
    pretrain: Dict[str, Any]
    checkpoint_sha: Optional[str]
    weights_sha: str
    train_feats: Optional[FeatureSet] = None
    test_feats: Optional[FeatureSet] = None
    cache_hits: Dict[str, Optional[bool]] = field(default_factory=dict)
    times: Dict[str, float] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """Output path without extension: linear head, curve and retrieval files start with it."""
        return osp.splitext(self.out_path)[0]


def build_config(settings: BenchmarkSettings):
    """The config (a file or a packaged name) with ``--cfg-options`` applied."""
    cfg = Config.fromfile(str(find_config(settings.config)))
    check_top_level_keys(cfg.keys(), settings.cfg_options)  # a typo is not silently ignored
    cfg.merge_from_dict(settings.cfg_options)
    if settings.data_root and not osp.isdir(settings.data_root):
        raise FileNotFoundError(f'--data-root {settings.data_root} is not a folder; pass the '
                                'dataset folder')
    return cfg


def _load_model(cfg, settings: BenchmarkSettings, random_init: bool, log: Log):
    torch.manual_seed(settings.seed)
    model = MODELS.build(cfg.model)
    if random_init:
        with quiet_mmengine():
            model.init_weights()
        log(f'random-init backbone (seed {settings.seed})')
        return model, dict(epochs=0, iters=0, wall_time_s=0.0), None
    report = load_backbone_weights(model, settings.checkpoint)
    log(f'loaded {report.tensors} backbone tensors from {settings.checkpoint}; not used for '
        'evaluation: ' + (', '.join(f'{k} ({n})' for k, n in report.unused.items()) or 'nothing'))
    if report.outside_mismatch:
        missing, extra = report.outside_mismatch
        log(f"warning: outside the backbone the checkpoint and the config's {type(model).__name__} "
            f'differ (missing in checkpoint: {missing[:6]}, not in model: {extra[:6]}); was it '
            'pretrained with another config?')
    checkpoint = settings.checkpoint
    checkpoint_sha = sha256_of_file(checkpoint) if osp.isfile(checkpoint) else None
    return model, report.pretrain, checkpoint_sha


def _datasets(settings: BenchmarkSettings, source: dict, common: Dict[str, Any]):
    """The (train, test) dataset configs and datasets: the config's own data, ``--eval-data``
    or ``--train-data``/``--test-data``; both index the training split's class list."""
    image_size = common['image_size']
    if settings.eval_data:
        train_cfg, test_cfg = eval_data_cfgs(
            settings.eval_data, image_size, settings.train_split, settings.test_split,
            settings.subset_train, settings.subset_test, settings.subset_seed,
            settings.cifar100_labels)
        train_set, test_set = build_eval_datasets(train_cfg, test_cfg)
        for dataset, split in ((train_set, train_cfg['split']), (test_set, test_cfg['split'])):
            check_labelled(dataset, f'{settings.eval_data} ({split})')
        return train_cfg, test_cfg, train_set, test_set
    if settings.train_data:
        columns = tuple(settings.csv_columns.split(','))
        train_cfg = external_dataset_cfg(settings.train_data, image_size, settings.subset_train,
                                         settings.subset_seed, columns, settings.image_root)
        train_set = build_eval_dataset(train_cfg)
        check_labelled(train_set, settings.train_data)
        test_cfg = external_dataset_cfg(settings.test_data, image_size, settings.subset_test,
                                        settings.subset_seed, columns, settings.image_root,
                                        classes=list(train_set.classes))
        test_set = build_eval_dataset(test_cfg)
        check_labelled(test_set, settings.test_data)
        return train_cfg, test_cfg, train_set, test_set
    train_split, test_split = default_splits(source)
    train_split = settings.train_split or train_split
    test_split = settings.test_split or test_split
    train_cfg = eval_dataset_cfg(source, train_split, subset_size=settings.subset_train, **common)
    test_cfg = eval_dataset_cfg(source, test_split, subset_size=settings.subset_test, **common)
    train_set, test_set = build_eval_datasets(train_cfg, test_cfg)  # one class list
    return train_cfg, test_cfg, train_set, test_set


def prepare(settings: BenchmarkSettings, log: Log, need_train_features: bool) -> BenchmarkContext:
    """Config, datasets, model (backbone from the checkpoint or random) and cached features."""
    cfg = build_config(settings)
    random_init = is_random_checkpoint(settings.checkpoint)
    checkpoint = settings.checkpoint
    if not random_init and '://' not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f"checkpoint not found: {checkpoint}; pass a .pth file, "
                                "zoo://NAME, or 'random' for the random-init baseline")
    config_name = find_config(settings.config).stem
    name = settings.name or (config_name + ('-random' if random_init
                                            and 'random' not in config_name else ''))
    source = pretraining_dataset_cfg(cfg)
    image_size = evaluation_image_size(cfg, settings.checkpoint, settings.image_size, log)
    common = dict(image_size=image_size, subset_seed=settings.subset_seed,
                  data_root=settings.data_root)
    train_cfg, test_cfg, train_set, test_set = _datasets(settings, source, common)
    train_split, test_split = train_cfg.get('split'), test_cfg.get('split')
    if settings.train_data:  # the result names the two paths
        train_split, test_split = settings.train_data, settings.test_data
    if settings.train_data or settings.eval_data:
        source = train_cfg
    log(f'data: {dataset_type_name(source)} {train_split} ({len(train_set)} images) / '
        f'{test_split} ({len(test_set)} images), {image_size} px')

    choose_runtime(settings, image_size, log)
    model, pretrain, checkpoint_sha = _load_model(cfg, settings, random_init, log)
    model.to(torch.device(settings.device)).eval()
    ctx = BenchmarkContext(
        cfg=cfg, config_path=settings.config, name=name,
        out_path=settings.out or osp.join('results', f'{name}.json'),
        source=source, train_split=train_split, test_split=test_split, image_size=image_size,
        train_cfg=train_cfg, train_set=train_set, test_set=test_set,
        num_classes=len(getattr(train_set, 'classes', []) or []) or None, model=model,
        random_init=random_init, pretrain=pretrain, checkpoint_sha=checkpoint_sha,
        weights_sha=sha256_of_state_dict(model.backbone))
    identity = feature_identity(cfg.model, settings.precision)
    if need_train_features:
        ctx.train_feats = _features(ctx, settings, log, train_set, 'train', train_cfg, identity)
    ctx.test_feats = _features(ctx, settings, log, test_set, 'test', test_cfg, identity)
    return ctx


def choose_runtime(settings: BenchmarkSettings, image_size: int, log: Log) -> None:
    """Resolve ``--device``, ``--precision`` (for extraction at ``image_size``) and
    ``--threads`` into ``settings.device``, ``settings.precision`` (``fp32|bf16|fp16``),
    ``settings.amp`` and ``settings.precision_choice`` (what result files record), and log
    the choice."""
    choice = resolve_runtime(settings, 'extract', image_size)
    settings.precision = choice.precision
    settings.amp = choice.precision if choice.autocast else False
    threads = set_threads(getattr(settings, 'threads', None))
    log(f"{choice.log_line()}; {threads['threads']} threads on {threads['cores']} cores")
    if choice.warning:
        log(f'warning: {choice.warning}')


def _features(ctx: BenchmarkContext, settings: BenchmarkSettings, log: Log, dataset,
              split: str, dataset_cfg: dict, identity: dict) -> FeatureSet:
    key = feature_cache_key(ctx.weights_sha, dataset, dict(identity, pipeline=dataset_cfg['pipeline']))
    loader = make_eval_loader(dataset, settings.batch_size, settings.num_workers)
    tick = time.perf_counter()
    feats, hit = cached_features(
        key, lambda: extract_features(ctx.model, loader, f'features ({split})', settings.amp,
                                      progress=not settings.quiet),
        use_cache=not settings.no_cache)
    ctx.times[f'features_{split}_s'] = time.perf_counter() - tick
    ctx.cache_hits[split] = hit
    log(f'{split} features {feats.features.shape}: '
        + ('from cache' if hit else f'extracted in {ctx.times[f"features_{split}_s"]:.1f} s'))
    return feats
