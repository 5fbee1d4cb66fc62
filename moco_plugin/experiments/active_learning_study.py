"""The active-learning study on cached features: per model, strategy and seed, grow the
labels along a schedule (a simulated labeller reveals the true labels of the picks) and
measure a linear probe on the test split after each round; JSON, markdown and one PNG per
model, the JSON rewritten after every model."""
from __future__ import annotations

import json
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from moco_plugin.experiments.fewlabel_setup import (FewLabelModel, Log, backbone_of, extractor,
                                                    load_config, split)
from moco_plugin.fewlabel.active_loop import DEFAULT_SCHEDULE, run_active_loop, summarise
from moco_plugin.fewlabel.features import ExtractionOptions
from moco_plugin.fewlabel.reports import markdown_table, plot_curves
from moco_plugin.fewlabel.splits import DataOptions
from moco_plugin.fewlabel.strategies import check_strategy
from moco_plugin.fewlabel.typiclust import MAX_CLUSTERS
from moco_plugin.utils.atomic_io import atomic_write_text


@dataclass
class ActiveLearningStudy:
    models: List[Tuple[str, str, str]]  # (name, config, checkpoint)
    out_dir: str
    strategies: List[str] = field(default_factory=lambda: ['random', 'entropy', 'kmeans',
                                                           'typiclust', 'hybrid'])
    seeds: List[int] = field(default_factory=lambda: [0, 1, 2])
    schedule: List[int] = field(default_factory=lambda: list(DEFAULT_SCHEDULE))
    teacher: str = 'linear'
    max_clusters: int = MAX_CLUSTERS  # TypiClust's cap on its L + B clusters
    data: DataOptions = field(default_factory=DataOptions)
    extraction: ExtractionOptions = field(default_factory=ExtractionOptions)


def study(request: ActiveLearningStudy, log: Log) -> Dict[str, Any]:
    """Run the study; returns what ``active_learning.json`` holds (the table goes to
    ``active_learning.md``)."""
    for strategy in request.strategies:
        check_strategy(strategy)
    started = time.perf_counter()
    json_path = osp.join(request.out_dir, 'active_learning.json')
    out: Dict[str, Any] = dict(schedule=request.schedule, seeds=request.seeds,
                               teacher=request.teacher, max_clusters=request.max_clusters,
                               models={})
    for name, config, checkpoint in request.models:
        model = FewLabelModel(config, checkpoint, request.data, request.extraction)
        cfg = load_config(model)
        pool_set, pool_cfg = split(cfg, model, 'train')
        test_set, test_cfg = split(cfg, model, 'test', pool=pool_set)
        backbone = backbone_of(cfg, model)
        features = extractor(model, log)
        tick = time.perf_counter()
        pool = features.features(backbone, pool_set, pool_cfg)
        test = features.features(backbone, test_set, test_cfg)
        runs: Dict[str, List[List[Dict[str, float]]]] = {}
        model_out: Dict[str, Any] = dict(config=config, checkpoint=checkpoint,
                                         checkpoint_sha256=backbone.checkpoint_sha256,
                                         features_s=round(time.perf_counter() - tick, 2),
                                         runs=runs)
        for strategy in request.strategies:
            tick = time.perf_counter()
            runs[strategy] = [run_active_loop(pool, test, strategy, request.schedule, seed,
                                              len(pool_set.classes), request.teacher,
                                              log=lambda m, name=name: log(f'{name}: {m}'),
                                              max_clusters=request.max_clusters)
                              for seed in request.seeds]
            model_out.setdefault('strategy_s', {})[strategy] = round(time.perf_counter() - tick, 2)
        model_out['summary'] = summarise(runs)
        out['models'][name] = model_out
        # written after every model, so an interrupted study keeps what it finished
        atomic_write_text(json.dumps(out, indent=1), json_path)
        plot_curves(model_out['summary'], osp.join(request.out_dir, f'active_learning_{name}.png'),
                    f'{name}: active selection, linear probe on frozen features '
                    f'({len(request.seeds)} seeds)')
    out['total_s'] = round(time.perf_counter() - started, 2)
    atomic_write_text(json.dumps(out, indent=1), json_path)
    atomic_write_text(markdown_table(out), osp.join(request.out_dir, 'active_learning.md'))
    return out
