"""A benchmark run of one config + checkpoint, and the comparison of several result files.

:func:`run_benchmark` prepares the context once (:mod:`.benchmark_setup`), runs the
benchmarks asked for (:mod:`.benchmark_steps`, one function each) and writes the result
files (:mod:`.benchmark_report`); :func:`compare_results` puts result files side by side.
"""
from __future__ import annotations

import os.path as osp
import time
from typing import Any, Dict, List

import numpy as np

from moco_plugin.evaluation.compare import write_comparison
from moco_plugin.evaluation.feature_map import plot_feature_map
from moco_plugin.evaluation.results import load_results
from moco_plugin.experiments.benchmark_report import describe_run, write_report
from moco_plugin.experiments.benchmark_settings import BenchmarkSettings
from moco_plugin.experiments.benchmark_setup import Log, prepare
from moco_plugin.experiments.benchmark_steps import (run_feature_map, run_few_shot, run_knn,
                                                     run_linear, run_retrieval)


def run_benchmark(settings: BenchmarkSettings, log: Log) -> Dict[str, Any]:
    """Run the requested evaluations; write the result JSON and markdown row; return the
    result dict."""
    started = time.perf_counter()
    ctx = prepare(settings, log, settings.needs_train_features)
    result = describe_run(ctx, settings)
    if settings.knn:
        result.update(run_knn(ctx, settings, log))
    if settings.linear:
        result.update(run_linear(ctx, settings, log))
    if settings.retrieval:
        result.update(run_retrieval(ctx, settings, log))
    if settings.few_shot:
        result.update(run_few_shot(ctx, settings, log))
    if settings.feature_map:
        result.update(run_feature_map(ctx, settings, log))
    write_report(result, ctx, settings, time.perf_counter() - started, log)
    return result


def compare_results(paths: List[str], markdown_path: str, plot_path: str, title: str,
                    log: Log) -> str:
    """Table (markdown) and plot of several result files, plus their t-SNE maps side by side
    when they have any; return the markdown."""
    results = load_results(paths)
    text = write_comparison(results, markdown_path, plot_path, title)
    log(f'comparison of {len(results)} results written to {markdown_path} and {plot_path}')
    maps = [(r['name'], np.asarray(r['feature_map']['points']), np.asarray(r['feature_map']['labels']))
            for r in results if r.get('feature_map')]
    if maps:  # the t-SNE maps of the compared checkpoints, side by side
        maps_path = osp.splitext(markdown_path)[0] + '_feature_maps.png'
        classes = next((r['dataset'].get('classes') for r in results
                        if r.get('feature_map') and (r.get('dataset') or {}).get('classes')), None)
        plot_feature_map(maps, maps_path, class_names=classes)
        log(f'{len(maps)} feature maps side by side in {maps_path}')
    return text
