"""Teachers: classifiers trained on the few labelled images' features that give class probabilities.

Two kinds: ``'linear'`` (the evaluation layer's linear probe on cached, L2-normalised
features) and ``'knn'`` (weighted k-NN votes over the labelled images, normalised to sum 1).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from moco_plugin.evaluation.feature_extraction import FeatureSet
from moco_plugin.evaluation.knn import nearest_neighbours, weighted_vote
from moco_plugin.evaluation.linear_probe import LinearProbeSettings, linear_probe_on_features

TEACHERS = ('linear', 'knn')
# Few labels: unit-norm features (so the lr does not depend on the backbone's feature
# scale), 100 epochs (with <= 256 labels one step per epoch), no weight decay.
FEW_LABEL_PROBE = LinearProbeSettings(epochs=100, lr=10.0, batch_size=256, normalize=True,
                                      weight_decay=0.0)
KNN_NEIGHBOURS = 20
KNN_TEMPERATURE = 0.1


@dataclass
class Teacher:
    """A trained teacher; :meth:`probabilities` maps features ``(N, D)`` to ``(N, C)``."""

    kind: str
    num_classes: int
    head: Optional[nn.Linear] = None
    normalize: bool = True
    bank: Optional[FeatureSet] = None
    k: int = KNN_NEIGHBOURS
    temperature: float = KNN_TEMPERATURE
    top1: Optional[float] = None  # on the evaluation set given at training, if any
    top5: Optional[float] = None

    @torch.no_grad()
    def probabilities(self, features: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """``(N, C)`` float32 class probabilities, computed ``chunk`` rows at a time.

        One float32 output array (1.6 GB at 512,000 x 800), no float64 copies of it.
        """
        out = np.empty((len(features), self.num_classes), dtype=np.float32)
        for start in range(0, len(features), chunk):
            block = np.ascontiguousarray(features[start:start + chunk], dtype=np.float32)
            out[start:start + len(block)] = self._probabilities(block)
        return out

    def _probabilities(self, features: np.ndarray) -> np.ndarray:
        if self.kind == 'linear':
            x = torch.from_numpy(features)
            x = F.normalize(x, dim=1) if self.normalize else x
            return torch.softmax(self.head(x).double(), dim=1).numpy()
        k = min(self.k, len(self.bank))
        similarities, neighbours = nearest_neighbours(self.bank.features, features, k)
        votes = weighted_vote(similarities, self.bank.labels[neighbours], self.num_classes,
                              self.temperature)
        return votes / votes.sum(axis=1, keepdims=True)

    def neighbours_used(self) -> Optional[int]:
        """The k-NN teacher's k (at most the labelled images), None for a linear one."""
        return min(self.k, len(self.bank)) if self.kind == 'knn' else None


def train_teacher(kind: str, labelled: FeatureSet, num_classes: int,
                  evaluation: Optional[FeatureSet] = None,
                  settings: Optional[LinearProbeSettings] = None, seed: int = 0) -> Teacher:
    """Train a teacher on the labelled features; report top-1/top-5 on ``evaluation`` if given.

    Raises:
        ValueError: Unknown kind, no labelled images, labels outside ``0..C-1``.
    """
    if kind not in TEACHERS:
        raise ValueError(f'unknown teacher {kind!r}; choose one of {", ".join(TEACHERS)}')
    if len(labelled) == 0:
        raise ValueError('the teacher needs at least one labelled image')
    if labelled.labels.min() < 0 or labelled.labels.max() >= num_classes:
        raise ValueError(f'labels must be in 0..{num_classes - 1}; the label file does not match '
                         f'the {num_classes}-class dataset')
    if kind == 'knn':
        teacher = Teacher('knn', num_classes, bank=labelled)
        if evaluation is not None:
            probs = teacher.probabilities(evaluation.features)
            teacher.top1, teacher.top5 = _accuracy(probs, evaluation.labels)
        return teacher
    settings = replace(settings or FEW_LABEL_PROBE, seed=seed)
    test = evaluation if evaluation is not None else labelled
    result = linear_probe_on_features(labelled, test, settings, num_classes, progress=False)
    return Teacher('linear', num_classes, head=result.head, normalize=settings.normalize,
                   top1=result.top1 if evaluation is not None else None,
                   top5=result.top5 if evaluation is not None else None)


def cross_validated_probs(kind: str, labelled: FeatureSet, num_classes: int, folds: int = 5,
                          settings: Optional[LinearProbeSettings] = None, seed: int = 0
                          ) -> np.ndarray:
    """Out-of-fold probabilities of the labelled images: ``(L, C)`` float32.

    The labelled images are split into ``folds`` stratified folds (per class, shuffled
    under ``seed``, dealt round robin); each fold is predicted by a teacher trained on the
    others. Each fold teacher sees ``(folds - 1) / folds`` of the labels, so the estimate is
    of a slightly weaker teacher than the one trained on all of them.

    Raises:
        ValueError: Fewer than 2 folds, or fewer labelled images than folds.
    """
    if folds < 2 or len(labelled) < folds:
        raise ValueError(f'cross-validation needs 2 <= folds <= the {len(labelled)} labelled '
                         f'images, got {folds} folds; label more images or lower --folds')
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labelled), dtype=np.int64)
    offset = 0
    for c in np.unique(labelled.labels):
        members = rng.permutation(np.flatnonzero(labelled.labels == c))
        fold[members] = (offset + np.arange(len(members))) % folds
        offset += len(members)  # the next class continues the round robin
    out = np.zeros((len(labelled), num_classes), dtype=np.float32)
    for f in range(folds):
        test, train = fold == f, fold != f
        teacher = train_teacher(kind, FeatureSet(labelled.features[train], labelled.labels[train]),
                                num_classes, settings=settings, seed=seed + f)
        out[test] = teacher.probabilities(labelled.features[test])
    return out


def teacher_from_classifier(state: dict, meta: dict, num_classes: int, feature_dim: int,
                            source: str = 'the classifier') -> Teacher:
    """A linear teacher from a classifier checkpoint of tools/train_few_labels.py.

    Raises:
        ValueError: Not a linear classifier, or its class count / input size does not
            match the dataset / backbone.
    """
    weight, bias = state.get('weight'), state.get('bias')
    if weight is None or bias is None or weight.ndim != 2:
        raise ValueError(f'{source} is not a linear classifier (keys {sorted(state)[:4]}); pass '
                         'the _classifier.pth of a linear train_few_labels.py run')
    if weight.shape[0] != num_classes:
        raise ValueError(f'{source} has {weight.shape[0]} classes but the dataset has '
                         f'{num_classes}; train the classifier on this dataset\'s labels')
    if weight.shape[1] != feature_dim:
        raise ValueError(f'{source} takes {weight.shape[1]}-d features but the backbone gives '
                         f'{feature_dim}; use the checkpoint the classifier was trained on')
    head = nn.Linear(weight.shape[1], weight.shape[0])
    head.load_state_dict(dict(weight=weight, bias=bias))
    return Teacher('linear', num_classes, head=head, normalize=bool(meta.get('normalize', True)))


def _accuracy(probs: np.ndarray, labels: np.ndarray):
    ranked = np.argsort(-probs, axis=1, kind='stable')
    top5 = min(5, probs.shape[1])
    return (100.0 * float((ranked[:, 0] == labels).mean()),
            100.0 * float((ranked[:, :top5] == labels[:, None]).any(axis=1).mean()))


def accuracy(probs: np.ndarray, labels: np.ndarray):
    """Top-1 / top-5 (percent) of probability rows; ties go to the lower class."""
    return _accuracy(np.asarray(probs), np.asarray(labels))
