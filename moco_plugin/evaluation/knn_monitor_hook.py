"""k-NN accuracy of the current backbone every few epochs of pretraining."""
from __future__ import annotations

import os.path as osp
from typing import Any, Dict, List, Optional

from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.evaluation.eval_datasets import (build_eval_datasets, default_splits,
                                                  eval_dataset_cfg, pretraining_dataset_cfg)
from moco_plugin.evaluation.feature_extraction import extract_features, make_eval_loader
from moco_plugin.evaluation.knn import knn_classify
from moco_plugin.evaluation.knn_torch import knn_classify_torch, resolve_knn_backend
from moco_plugin.registry import HOOKS
from moco_plugin.utils.config_files import training_image_size


def plot_knn_history(history: List[Dict[str, Any]], path: str, title: str) -> None:
    """PNG of k-NN top-1 (and top-5) against the pretraining epoch."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = [h['epoch'] for h in history]
    ax.plot(epochs, [h['top1'] for h in history], marker='o', label='k-NN top-1')
    ax.plot(epochs, [h['top5'] for h in history], marker='.', ls='--', label='k-NN top-5')
    ax.set_xlabel('pretraining epoch')
    ax.set_ylabel('accuracy (%)')
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """Track representation quality during pretraining with a weighted k-NN classifier.

    Every ``interval`` epochs (and after the last one) the pooled features of
    a labelled bank (training split) and of held-out queries (test split) are
    extracted with the current backbone in eval mode, and the queries are
    classified by :func:`moco_plugin.evaluation.knn_classify` (weights
    ``exp(sim / T)``, `InstDisc <https://arxiv.org/abs/1805.01978>`_, as in the
    MoCo CIFAR-10 demo's monitor). Both sets are small class-balanced subsets
    by default, so a check costs seconds, not an epoch.

    The result is logged (``knn/top1``, ``knn/top5`` in the message hub and
    the visualizer), the history goes into every checkpoint's ``meta``
    (``knn_history``) and is restored on resume, and
    ``<work_dir>/knn_curve.png`` is drawn at the end of training. With several
    processes the check runs on rank 0 only and its result is broadcast, so every
    rank logs and stores the same history.

    Args:
        interval: Run every ``interval`` epochs.
        k: Neighbours.
        temperature: Vote temperature.
        bank_size: Training images in the bank (``None``: the whole split).
        query_size: Test images classified (``None``: the whole split).
        bank_dataset: Full dataset config of the bank, instead of one derived
            from ``train_dataloader.dataset`` (same type and data root,
            ``ResizeCenterCrop`` pipeline).
        query_dataset: Same for the queries.
        image_size: Evaluation crop (default: the size of the training views, else 32 for
            CIFAR-10 and 224 otherwise).
        batch_size: Extraction batch size.
        num_workers: Extraction data-loader workers.
        plot: Draw ``knn_curve.png`` after training.
        backend: ``'faiss'`` (on the host), ``'torch'`` (matrix product and top-k on the
            model's device) or ``'auto'``: torch when the model is on a GPU, else faiss.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW), so a checkpoint holds this epoch's value

    def __init__(self, interval: int = 10, k: int = 200, temperature: float = 0.1,
                 bank_size: Optional[int] = 5000, query_size: Optional[int] = 1000,
                 bank_dataset: Optional[dict] = None, query_dataset: Optional[dict] = None,
                 image_size: Optional[int] = None, batch_size: int = 256, num_workers: int = 0,
                 plot: bool = True, backend: str = 'auto') -> None:
        resolve_knn_backend(backend, 'cpu')  # refuses an unknown name now, not after an epoch
        if interval < 1 or k < 1 or temperature <= 0:
            raise ValueError(f'KNNMonitorHook needs interval >= 1, k >= 1 and temperature > 0; '
                             f'got {interval}, {k}, {temperature}')
        self.interval = interval
        self.k = k
        self.temperature = temperature
        self.bank_size = bank_size
        self.query_size = query_size
        self.bank_dataset_cfg = bank_dataset
        self.query_dataset_cfg = query_dataset
        self.image_size = image_size
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.plot = plot
        self.backend = backend
        self.history: List[Dict[str, Any]] = []
        self._datasets = None

    def _build_datasets(self, runner):
        bank_cfg, query_cfg = self.bank_dataset_cfg, self.query_dataset_cfg
        if bank_cfg is None or query_cfg is None:
            source = pretraining_dataset_cfg(runner.cfg)
            bank_split, query_split = default_splits(source)
            # the views' size, as the benchmark does: a 224 px model checked at 32 px scores
            # near chance and would look like it learnt nothing
            size = self.image_size or training_image_size(runner.cfg)
            bank_cfg = bank_cfg or eval_dataset_cfg(source, bank_split, size, self.bank_size)
            query_cfg = query_cfg or eval_dataset_cfg(source, query_split, size, self.query_size)
        return build_eval_datasets(bank_cfg, query_cfg)

    def before_train(self, runner) -> None:
        # Built (and decoded) now, on the rank that evaluates: a missing or undecodable
        # monitor image stops the run before the first step, not after the first epoch.
        if self._datasets is None and is_main_process():
            self._datasets = self._build_datasets(runner)

    def evaluate(self, runner) -> Dict[str, Any]:
        """Extract bank and query features with the current backbone and run the k-NN."""
        if self._datasets is None:
            self._datasets = self._build_datasets(runner)
        bank_set, query_set = self._datasets
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bank = extract_features(model, make_eval_loader(bank_set, self.batch_size, self.num_workers),
                                'k-NN monitor bank', progress=False)
        query = extract_features(model, make_eval_loader(query_set, self.batch_size,
                                                         self.num_workers),
                                 'k-NN monitor queries', progress=False)
        device = next(model.parameters()).device
        if resolve_knn_backend(self.backend, device) == 'torch':
            scores = knn_classify_torch(bank.features, bank.labels, query.features, query.labels,
                                        [self.k], self.temperature, device=device)[self.k]
        else:
            scores = knn_classify(bank.features, bank.labels, query.features, query.labels,
                                  [self.k], self.temperature)[self.k]
        return dict(epoch=runner.epoch + 1, iter=runner.iter, k=scores['k_used'],
                    top1=float(scores['top1']), top5=float(scores['top5']),
                    n_bank=len(bank), n_query=len(query))

    def after_train_epoch(self, runner) -> None:
        if not (self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner)):
            return
        # Once, on rank 0, and the result sent to the others: every rank holds the same
        # weights, so repeating the extraction on each would only cost time.
        entry = [self.evaluate(runner) if is_main_process() else None]
        if get_world_size() > 1:
            broadcast_object_list(entry, src=0)
        entry = entry[0]
        self.history = [h for h in self.history if h['epoch'] != entry['epoch']] + [entry]
        runner.message_hub.update_scalar('knn/top1', entry['top1'])
        runner.message_hub.update_scalar('knn/top5', entry['top5'])
        runner.visualizer.add_scalars({'knn/top1': entry['top1'], 'knn/top5': entry['top5']},
                                      step=entry['epoch'])
        runner.logger.info(f"k-NN monitor (epoch {entry['epoch']}, k={entry['k']}, "
                           f"{entry['n_bank']} bank / {entry['n_query']} test images): "
                           f"top-1 {entry['top1']:.2f}%, top-5 {entry['top5']:.2f}%")

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['knn_history'] = [dict(h) for h in self.history]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        history = checkpoint.get('meta', {}).get('knn_history')
        if history is not None:
            self.history = [dict(h) for h in history]

    def after_train(self, runner) -> None:
        if not (self.plot and self.history and is_main_process()):
            return
        path = osp.join(runner.work_dir, 'knn_curve.png')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        plot_knn_history(self.history, path, f'{type(model).__name__}: k-NN (k={self.k}) '
                                             'during pretraining')
        runner.logger.info(f'k-NN curve saved to {path}')
