"""The result of one ``tools/benchmark.py`` run: JSON file and markdown row (the tool prints
the row)."""
from __future__ import annotations

import datetime
import os.path as osp
import shlex
from typing import Any, Dict

import numpy as np
import torch

from moco_plugin.evaluation.eval_datasets import dataset_type_name
from moco_plugin.evaluation.results import append_markdown_row, write_json
from moco_plugin.experiments.benchmark_settings import BenchmarkSettings
from moco_plugin.experiments.benchmark_setup import BenchmarkContext, Log


def describe_run(ctx: BenchmarkContext, settings: BenchmarkSettings) -> Dict[str, Any]:
    """What was evaluated: algorithm, checkpoint and weight identities, pretraining, data."""
    pretrain = dict(ctx.pretrain)
    other_root = settings.eval_data or settings.train_data
    other_data = bool(other_root)
    root = other_root if other_data else getattr(ctx.train_set, 'data_root', None)
    result: Dict[str, Any] = dict(
        schema=1, name=ctx.name, algorithm=type(ctx.model).__name__, config=settings.config,
        checkpoint=settings.checkpoint, checkpoint_sha256=ctx.checkpoint_sha,
        weights_sha256=ctx.weights_sha,
        random_init_seed=settings.seed if ctx.random_init else None,
        pretrain=pretrain,
        dataset=dict(type=dataset_type_name(ctx.source), data_root=root,
                     name=osp.basename(osp.normpath(str(root))) if root else None,
                     config_dataset=not other_data,
                     fingerprint=dict(train=_fingerprint(ctx.train_set),
                                      test=_fingerprint(ctx.test_set)),
                     num_classes=ctx.num_classes,
                     train_split=ctx.train_split, test_split=ctx.test_split,
                     image_size=ctx.image_size, subset_train=settings.subset_train,
                     subset_test=settings.subset_test, subset_seed=settings.subset_seed,
                     classes=list(getattr(ctx.train_set, 'classes', []) or [])),
        precision=settings.precision, precision_choice=settings.precision_choice,
        n_train=len(ctx.train_set), n_test=len(ctx.test_feats),
        feature_dim=int(ctx.test_feats.features.shape[1]),
        feature_cache_hit=dict(train=ctx.cache_hits.get('train'), test=ctx.cache_hits.get('test')))
    monitor = pretrain.pop('knn_monitor', None)
    if monitor and not other_data:  # measured on the pretraining data: not this dataset's
        result['knn_monitor'] = monitor
    return result


def _fingerprint(dataset) -> Any:
    fingerprint = getattr(dataset, 'content_fingerprint', None)
    return fingerprint()[:16] if fingerprint else None


def write_report(result: Dict[str, Any], ctx: BenchmarkContext, settings: BenchmarkSettings,
                 total_s: float, log: Log) -> None:
    """Add times, command and versions; write the JSON and append the markdown row."""
    ctx.times['total_s'] = total_s
    result['times'] = {k: round(v, 3) for k, v in ctx.times.items()}
    result['command'] = ' '.join(['python', 'tools/benchmark.py'] +
                                 [shlex.quote(a) for a in settings.argv])
    result['created'] = datetime.datetime.now().isoformat(timespec='seconds')
    result['versions'] = dict(torch=torch.__version__, numpy=np.__version__)
    write_json(result, ctx.out_path)
    markdown_path = settings.markdown or osp.join(osp.dirname(ctx.out_path) or '.', 'results.md')
    append_markdown_row(result, markdown_path)
    log(f'result written to {ctx.out_path}; row appended to {markdown_path}')
