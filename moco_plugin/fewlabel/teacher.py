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
        if self.kind == 'linear':
            out = []
            for start in range(0, len(features), chunk):
                x = torch.from_numpy(np.ascontiguousarray(features[start:start + chunk],
                                                          dtype=np.float32))
                x = F.normalize(x, dim=1) if self.normalize else x
                out.append(torch.softmax(self.head(x).double(), dim=1).numpy())
            return np.concatenate(out)
        k = min(self.k, len(self.bank))
        similarities, neighbours = nearest_neighbours(self.bank.features, features, k)
        votes = weighted_vote(similarities, self.bank.labels[neighbours], self.num_classes,
                              self.temperature)
        return votes / votes.sum(axis=1, keepdims=True)


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
