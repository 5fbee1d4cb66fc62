"""Evaluation of frozen backbones: features, k-NN, linear probe, retrieval, result tables."""
from moco_plugin.evaluation.compare import comparison_markdown, plot_comparison, write_comparison
from moco_plugin.evaluation.feature_extraction import (FeatureSet, cached_features,
                                                       dataset_identity, extract_features,
                                                       feature_cache_key, make_eval_loader,
                                                       sha256_of_file, sha256_of_state_dict)
from moco_plugin.evaluation.knn_monitor_hook import KNNMonitorHook
from moco_plugin.evaluation.knn import knn_classify, nearest_neighbours, rank_classes, weighted_vote
from moco_plugin.evaluation.knn_torch import knn_classify_torch, resolve_knn_backend
from moco_plugin.evaluation.linear_lr_sweep import LinearLrSweep, holdout_split, sweep_linear_lr
from moco_plugin.evaluation.linear_probe import (LinearProbeResult, LinearProbeSettings,
                                                 linear_probe_on_features,
                                                 linear_probe_with_augmentation,
                                                 plot_linear_curve, save_linear_head)
from moco_plugin.evaluation.results import (append_markdown_row, load_result, load_results,
                                            markdown_row, write_json)
from moco_plugin.evaluation.retrieval import retrieval_grid

__all__ = ['FeatureSet', 'KNNMonitorHook', 'LinearLrSweep', 'LinearProbeResult', 'LinearProbeSettings', 'append_markdown_row',
           'cached_features', 'comparison_markdown', 'dataset_identity', 'extract_features',
           'feature_cache_key', 'holdout_split', 'knn_classify', 'knn_classify_torch', 'linear_probe_on_features',
           'linear_probe_with_augmentation', 'load_result', 'load_results', 'make_eval_loader',
           'markdown_row', 'nearest_neighbours', 'plot_comparison', 'plot_linear_curve',
           'rank_classes', 'resolve_knn_backend', 'retrieval_grid', 'save_linear_head', 'sha256_of_file',
           'sha256_of_state_dict', 'sweep_linear_lr', 'weighted_vote', 'write_comparison', 'write_json']
