"""The result of one ``tools/benchmark_linear.py`` run: JSON file and markdown row."""
from __future__ import annotations

import argparse
import datetime
import os.path as osp
import shlex
from typing import Any, Dict

import numpy as np
import torch

from moco_plugin.cli.benchmark_setup import BenchmarkContext, Log
from moco_plugin.evaluation.eval_datasets import dataset_type_name
from moco_plugin.evaluation.results import append_markdown_row, markdown_row, write_json


def describe_run(ctx: BenchmarkContext, args: argparse.Namespace) -> Dict[str, Any]:
    """What was evaluated: algorithm, checkpoint and weight identities, pretraining, data."""
    pretrain = dict(ctx.pretrain)
    other_root = getattr(args, 'eval_data', None) or getattr(args, 'train_data', None)
    other_data = bool(other_root)
    root = other_root if other_data else getattr(ctx.train_set, 'data_root', None)
    result: Dict[str, Any] = dict(
        schema=1, name=ctx.name, algorithm=type(ctx.model).__name__, config=args.config,
        checkpoint=args.checkpoint, checkpoint_sha256=ctx.checkpoint_sha,
        weights_sha256=ctx.weights_sha, random_init_seed=args.seed if ctx.random_init else None,
        pretrain=pretrain,
        dataset=dict(type=dataset_type_name(ctx.source), data_root=root,
                     name=osp.basename(osp.normpath(str(root))) if root else None,
                     config_dataset=not other_data,
                     fingerprint=dict(train=_fingerprint(ctx.train_set),
                                      test=_fingerprint(ctx.test_set)),
                     num_classes=ctx.num_classes,
                     train_split=ctx.train_split, test_split=ctx.test_split,
                     image_size=ctx.image_size, subset_train=args.subset_train,
                     subset_test=args.subset_test, subset_seed=args.subset_seed,
                     classes=list(getattr(ctx.train_set, 'classes', []) or [])),
        precision=args.precision, precision_choice=getattr(args, 'precision_choice', None),
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


def write_report(result: Dict[str, Any], ctx: BenchmarkContext, args: argparse.Namespace,
                 total_s: float, log: Log) -> None:
    """Add times, command and versions; write the JSON and append the markdown row."""
    ctx.times['total_s'] = total_s
    result['times'] = {k: round(v, 3) for k, v in ctx.times.items()}
    result['command'] = ' '.join(['python', 'tools/benchmark_linear.py'] +
                                 [shlex.quote(a) for a in getattr(args, 'argv', [])])
    result['created'] = datetime.datetime.now().isoformat(timespec='seconds')
    result['versions'] = dict(torch=torch.__version__, numpy=np.__version__)
    write_json(result, ctx.out_path)
    markdown_path = args.markdown or osp.join(osp.dirname(ctx.out_path) or '.', 'results.md')
    append_markdown_row(result, markdown_path)
    print(markdown_row(result))
    log(f'result written to {ctx.out_path}; row appended to {markdown_path}')
