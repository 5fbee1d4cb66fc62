"""Linear classification on a frozen backbone (the MoCo linear-evaluation protocol)."""
from __future__ import annotations

import io
import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from moco_plugin.evaluation.feature_extraction import FeatureSet, autocast_dtype
from moco_plugin.utils.atomic_io import atomic_write_bytes

Batches = Iterable[Tuple[torch.Tensor, torch.Tensor]]


@dataclass
class LinearProbeSettings:
    """Hyper-parameters; the defaults are MoCo's ``main_lincls.py`` protocol.

    `MoCo <https://arxiv.org/abs/1911.05722>`_ trains a fully-connected layer
    (no BN, features as they come out of the pooled backbone) with SGD,
    lr 30, momentum 0.9, weight decay 0, batch 256, for 100 epochs, lr x0.1 at
    epochs 60 and 80 (``'step'``) or a cosine decay (``'cos'``, MoCo v2's
    ``--cos``). The large lr suits unnormalised features; with
    ``normalize=True`` (unit-norm features) a smaller lr is usually better.

    Attributes:
        epochs: Training epochs.
        lr: Base learning rate.
        momentum: SGD momentum.
        weight_decay: SGD weight decay.
        batch_size: Minibatch size.
        schedule: ``'cos'`` or ``'step'`` (per epoch, as in MoCo).
        milestones: Fractions of ``epochs`` where ``'step'`` divides the lr by 10.
        normalize: L2-normalise the features first (not in the MoCo protocol).
        seed: Seed of the initialisation and of the minibatch order.
    """

    epochs: int = 100
    lr: float = 30.0
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 256
    schedule: str = 'cos'
    milestones: Sequence[float] = (0.6, 0.8)
    normalize: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.schedule not in ('cos', 'step'):
            raise ValueError(f"linear-probe schedule must be 'cos' or 'step', got {self.schedule!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(f'linear probe needs epochs >= 1, batch_size >= 1 and lr > 0; got '
                             f'{self.epochs}, {self.batch_size}, {self.lr}')

    def lr_at(self, epoch: int) -> float:
        """Learning rate of epoch ``epoch`` (0-based)."""
        if self.schedule == 'cos':
            return self.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / self.epochs))
        drops = sum(epoch >= round(m * self.epochs) for m in self.milestones)
        return self.lr * 0.1 ** drops


@dataclass
class LinearProbeResult:
    """The trained head, its final test accuracy (percent) and the per-epoch curve."""

    head: nn.Linear
    top1: float
    top5: float
    curve: List[Dict[str, float]] = field(default_factory=list)
    settings: Optional[LinearProbeSettings] = None


def _prepare(features: np.ndarray, normalize: bool) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    return F.normalize(x, dim=1) if normalize else x


@torch.no_grad()
def evaluate_linear(head: nn.Linear, features: torch.Tensor, labels: torch.Tensor,
                    batch_size: int = 4096) -> Tuple[float, float]:
    """Top-1 / top-5 accuracy (percent) of ``head`` on features; logit ties go to the lower class."""
    correct_1 = correct_5 = 0
    top = min(5, head.out_features)
    for start in range(0, len(labels), batch_size):
        logits = head(features[start:start + batch_size])
        ranked = torch.from_numpy(np.argsort(-logits.numpy(), axis=1, kind='stable')[:, :top])
        target = labels[start:start + batch_size].view(-1, 1)
        correct_1 += (ranked[:, :1] == target).sum().item()
        correct_5 += (ranked == target).any(dim=1).sum().item()
    total = max(len(labels), 1)
    return 100.0 * correct_1 / total, 100.0 * correct_5 / total


def train_linear_classifier(in_features: int, num_classes: int,
                            epoch_batches: Callable[[int, torch.Generator], Batches],
                            test: FeatureSet, settings: LinearProbeSettings,
                            progress: bool = True, log: Optional[Callable[[str], None]] = None
                            ) -> LinearProbeResult:
    """Train ``nn.Linear(in_features, num_classes)`` on batches that ``epoch_batches`` yields.

    ``epoch_batches(epoch, generator)`` returns the ``(features, labels)``
    minibatches of one epoch; it is either a shuffle of precomputed features
    (fast path) or the frozen backbone on freshly augmented images. After
    every epoch the head is evaluated on ``test`` (precomputed, eval transform).

    Returns:
        The head, the last epoch's top-1 / top-5 and the curve
        ``[dict(epoch, lr, loss, top1, top5), ...]``.
    """
    generator = torch.Generator().manual_seed(settings.seed)
    head = nn.Linear(in_features, num_classes)
    # MoCo's main_lincls.py initialisation.
    with torch.no_grad():
        head.weight.normal_(0.0, 0.01, generator=generator)
        head.bias.zero_()
    optimizer = torch.optim.SGD(head.parameters(), lr=settings.lr, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    test_x = _prepare(test.features, settings.normalize)
    test_y = torch.from_numpy(np.asarray(test.labels, dtype=np.int64))
    curve: List[Dict[str, float]] = []
    bar = tqdm(range(settings.epochs), desc='linear probe', unit='epoch', disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    for epoch in bar:
        lr = settings.lr_at(epoch)
        for group in optimizer.param_groups:
            group['lr'] = lr
        losses = []
        for x, y in epoch_batches(epoch, generator):
            x = F.normalize(x, dim=1) if settings.normalize else x
            loss = F.cross_entropy(head(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        mean_loss = float(np.mean(losses)) if losses else float('nan')
        if not math.isfinite(mean_loss):
            raise RuntimeError(f'linear probe diverged at epoch {epoch + 1} (loss {mean_loss}); '
                               'lower --linear-lr or use --linear-normalize')
        top1, top5 = evaluate_linear(head, test_x, test_y)
        curve.append(dict(epoch=epoch + 1, lr=lr, loss=mean_loss, top1=top1, top5=top5))
        bar.set_postfix(loss=f'{mean_loss:.3f}', top1=f'{top1:.2f}', refresh=False)
        if log is not None:
            log(f'linear epoch {epoch + 1}/{settings.epochs}: lr {lr:.4g} loss {mean_loss:.4f} '
                f'top1 {top1:.2f} top5 {top5:.2f}')
    bar.close()
    return LinearProbeResult(head, curve[-1]['top1'], curve[-1]['top5'], curve, settings)


def linear_probe_on_features(train: FeatureSet, test: FeatureSet,
                             settings: Optional[LinearProbeSettings] = None,
                             num_classes: Optional[int] = None, progress: bool = True,
                             log: Optional[Callable[[str], None]] = None) -> LinearProbeResult:
    """Fast path: the linear probe on precomputed (cached) features, shuffled each epoch."""
    settings = settings or LinearProbeSettings()
    train_x = _prepare(train.features, False)
    train_y = torch.from_numpy(np.asarray(train.labels, dtype=np.int64))
    if num_classes is None:
        num_classes = int(max(train_y.max().item(), int(np.max(test.labels)))) + 1

    def epoch_batches(epoch: int, generator: torch.Generator) -> Iterator:
        order = torch.randperm(len(train_y), generator=generator)
        for start in range(0, len(order), settings.batch_size):
            index = order[start:start + settings.batch_size]
            yield train_x[index], train_y[index]

    return train_linear_classifier(train_x.shape[1], num_classes, epoch_batches, test, settings,
                                   progress, log)


def linear_probe_with_augmentation(model: nn.Module, train_loader, test: FeatureSet,
                                   settings: Optional[LinearProbeSettings] = None,
                                   num_classes: Optional[int] = None, amp: Union[bool, str] = False,
                                   progress: bool = True,
                                   log: Optional[Callable[[str], None]] = None) -> LinearProbeResult:
    """Slow path: every epoch, new train-time augmentations go through the frozen backbone.

    ``train_loader`` must shuffle and apply the train-time augmentation (e.g.
    ``RandomResizedCropFlip``); the backbone runs in eval mode without
    gradients, so only the linear layer learns, as in MoCo's protocol.
    """
    settings = settings or LinearProbeSettings()
    model.eval()
    device = next(model.parameters()).device
    dtype = autocast_dtype(amp, device.type)
    if num_classes is None:
        dataset = train_loader.dataset
        num_classes = max(len(getattr(dataset, 'classes', []) or []), int(np.max(test.labels)) + 1)
    torch.manual_seed(settings.seed)  # the loader's shuffle and the augmentations

    @torch.no_grad()
    def features_of(batch) -> Tuple[torch.Tensor, torch.Tensor]:
        data = model.data_preprocessor(batch, training=False)
        with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            feats = model(data['inputs'], mode='tensor')
        labels = torch.as_tensor(batch['data_samples']['gt_label']).view(-1).long()
        return feats.float().cpu(), labels

    def epoch_batches(epoch: int, generator: torch.Generator) -> Iterator:
        for batch in tqdm(train_loader, desc=f'linear epoch {epoch + 1} (augmented)', leave=False,
                          disable=not progress, file=sys.stderr, dynamic_ncols=True):
            yield features_of(batch)

    in_features = getattr(getattr(model, 'backbone', None), 'out_channels', None) or \
        test.features.shape[1]
    return train_linear_classifier(in_features, num_classes, epoch_batches, test, settings,
                                   progress, log)


def save_linear_head(result: LinearProbeResult, path: str, meta: Optional[dict] = None) -> None:
    """Save the linear head as its own checkpoint (atomic write).

    Content: ``dict(state_dict={'weight', 'bias'}, meta={...})`` with plain
    Python values only, so it loads with ``torch.load(weights_only=True)``
    and ``nn.Linear(in, out).load_state_dict(ckpt['state_dict'])``.
    """
    settings = result.settings.__dict__ if result.settings is not None else {}
    full_meta = dict(in_features=result.head.in_features, num_classes=result.head.out_features,
                     top1=float(result.top1), top5=float(result.top5),
                     settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()},
                     **(meta or {}))
    buffer = io.BytesIO()
    torch.save(dict(state_dict={k: v.detach().cpu() for k, v in result.head.state_dict().items()},
                    meta=full_meta), buffer)
    atomic_write_bytes(buffer.getvalue(), path)


def plot_linear_curve(curve: Sequence[Dict[str, float]], path: str, title: str) -> None:
    """PNG of validation top-1 / top-5 (left axis) and train loss (right axis) per epoch."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    epochs = [c['epoch'] for c in curve]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(epochs, [c['top1'] for c in curve], marker='.', label='val top-1')
    ax.plot(epochs, [c['top5'] for c in curve], marker='.', label='val top-5')
    ax.set_xlabel('epoch')
    ax.set_ylabel('accuracy (%)')
    loss_ax = ax.twinx()
    loss_ax.plot(epochs, [c['loss'] for c in curve], color='gray', ls='--', label='train loss')
    loss_ax.set_ylabel('train loss')
    lines = ax.get_legend_handles_labels()
    more = loss_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc='center right')
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
