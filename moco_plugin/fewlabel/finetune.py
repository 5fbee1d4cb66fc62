"""Full fine-tuning of a pretrained backbone plus a linear head on the labelled images.

As in OpenSelfSup / mmselfsup's 1 % and 10 % ImageNet semi-supervised benchmarks, the
backbone learns with a smaller learning rate than the new head
(``backbone_lr_mult``, e.g. 0.01 for "lr 0.01, head x100"), SGD with a cosine schedule.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm


@dataclass
class FinetuneSettings:
    """Hyper-parameters of fine-tuning (defaults: a short CPU schedule)."""

    epochs: int = 30
    lr: float = 0.1
    backbone_lr_mult: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.backbone_lr_mult < 0:
            raise ValueError('fine-tuning needs epochs >= 1, batch_size >= 1, lr > 0 and '
                             f'backbone_lr_mult >= 0; got {self.__dict__}')


class Classifier(nn.Module):
    """Backbone (pooled ``(N, C)`` features) + linear head."""

    def __init__(self, backbone: nn.Module, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def _inputs(preprocessor, batch: dict, training: bool) -> torch.Tensor:
    data = preprocessor(batch, training=training)
    inputs = data['inputs']
    return inputs[0] if isinstance(inputs, (list, tuple)) else inputs


@torch.no_grad()
def evaluate_classifier(model: Classifier, preprocessor, loader: DataLoader) -> Dict[str, float]:
    """Top-1 / top-5 (percent) over a loader; logit ties go to the lower class."""
    model.eval()
    correct1 = correct5 = total = 0
    for batch in loader:
        logits = model(_inputs(preprocessor, batch, False)).float().cpu()  # any device
        labels = torch.as_tensor(batch['data_samples']['gt_label']).view(-1)
        ranked = torch.from_numpy(np.argsort(-logits.numpy(), axis=1, kind='stable')[:, :5])
        correct1 += int((ranked[:, 0] == labels).sum())
        correct5 += int((ranked[:, :min(5, logits.shape[1])] == labels[:, None]).any(1).sum())
        total += len(labels)
    return dict(top1=100.0 * correct1 / max(total, 1), top5=100.0 * correct5 / max(total, 1))


def finetune(backbone: nn.Module, preprocessor, in_features: int, num_classes: int,
             train_loader: DataLoader, test_loader: DataLoader, settings: FinetuneSettings,
             progress: bool = True, log: Optional[Callable[[str], None]] = None):
    """Fine-tune ``backbone`` + a new head; return ``(classifier, final metrics, curve)``.

    Args:
        backbone: Pretrained backbone (trained in place).
        preprocessor: The algorithm's data preprocessor (uint8 -> normalised float).
        in_features: Backbone output size.
        num_classes: Classes of the head.
        train_loader: Shuffled loader of the labelled (and pseudo-labelled) images.
        test_loader: Loader of the untouched test split.
        settings: :class:`FinetuneSettings`.
    """
    torch.manual_seed(settings.seed)
    device = next(backbone.parameters()).device
    model = Classifier(backbone, in_features, num_classes).to(device)  # the backbone's device
    groups = [dict(params=model.backbone.parameters(), lr_mult=settings.backbone_lr_mult),
              dict(params=model.head.parameters(), lr_mult=1.0)]
    optimizer = torch.optim.SGD(groups, lr=settings.lr, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    steps = settings.epochs * max(len(train_loader), 1)
    curve: List[Dict[str, float]] = []
    step = 0
    bar = tqdm(range(settings.epochs), desc='fine-tune', unit='epoch', disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    for epoch in bar:
        model.train()
        losses = []
        for batch in train_loader:
            scale = 0.5 * (1 + math.cos(math.pi * step / steps))  # per-iteration cosine
            for group in optimizer.param_groups:
                group['lr'] = settings.lr * group['lr_mult'] * scale
            logits = model(_inputs(preprocessor, batch, False))
            labels = torch.as_tensor(batch['data_samples']['gt_label']).view(-1).long()
            loss = F.cross_entropy(logits, labels.to(logits.device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
        mean_loss = float(np.mean(losses)) if losses else float('nan')
        if not math.isfinite(mean_loss):
            raise RuntimeError(f'fine-tuning diverged at epoch {epoch + 1}; lower lr')
        curve.append(dict(epoch=epoch + 1, loss=mean_loss))
        if log is not None:
            log(f'fine-tune epoch {epoch + 1}/{settings.epochs}: loss {mean_loss:.4f}')
    bar.close()
    metrics = evaluate_classifier(model, preprocessor, test_loader)
    curve[-1].update(metrics)
    return model, metrics, curve
