"""Base class of the self-supervised algorithms."""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from moco_plugin.models.utils import FeatureBank, FeatureQueue
from moco_plugin.registry import MODELS

Inputs = Union[torch.Tensor, List[torch.Tensor]]


class MissingTrainingHookError(RuntimeError):
    """A model trains without a hook it depends on (its queue or EMA would never move)."""


class BaseSelfSupervisor(BaseModel):
    """Backbone + neck + head, driven by MMEngine's ``train_step``.

    ``forward(mode='loss')`` returns the loss dict used for training;
    ``mode='tensor'`` (and ``'predict'``) return the pooled backbone features
    of the first view, which is what downstream evaluation uses.

    A model with momentum pairs needs ``MomentumUpdateHook`` and one holding a
    :class:`FeatureQueue` needs ``QueueHook`` (:meth:`required_hooks`): without
    them the target encoder or the queue never moves and training goes on
    against frozen random targets. Those hooks announce themselves before
    training (:meth:`declare_training_hooks`) and the first training step
    raises :class:`MissingTrainingHookError` naming any that is missing.

    Args:
        backbone: Config of the backbone.
        neck: Config of the projection neck.
        head: Config of the loss head.
        data_preprocessor: Config of the data preprocessor.
        init_cfg: MMEngine weight-initialisation config (e.g. a pretrained
            checkpoint, ``zoo://NAME`` accepted).
    """

    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='SelfSupDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else nn.Identity()
        self.head = MODELS.build(head) if head is not None else nn.Identity()
        self._declared_hooks: Set[str] = set()
        self._hooks_checked = False
        self._momentum_settings: Dict[str, object] = {}

    # The paper's EMA of an algorithm with a target encoder, declared at the top of its class
    # (MoCo, BYOL): ``momentum``, ``end_momentum``, ``schedule``. Empty without a target encoder.
    # The one source of the default: MomentumUpdateHook reads the model and holds none.
    DEFAULT_MOMENTUM: Dict[str, object] = {}

    def set_momentum(self, momentum: Optional[float] = None, end_momentum: Optional[float] = None,
                     schedule: Optional[str] = None) -> None:
        """Set the EMA of the target encoder: the given values over ``DEFAULT_MOMENTUM``.

        ``None`` keeps the algorithm's default. The values are checked now (a typo fails
        when the model is built, not after the first epoch);
        :class:`~moco_plugin.engine.hooks.MomentumUpdateHook` reads them, so a sweep sets
        ``model.momentum`` instead of a position in ``custom_hooks``.
        """
        given = dict(momentum=momentum, end_momentum=end_momentum, schedule=schedule)
        settings = {**self.DEFAULT_MOMENTUM, **{k: v for k, v in given.items() if v is not None}}
        missing = sorted({'momentum', 'end_momentum', 'schedule'} - set(settings))
        if missing:
            raise ValueError(f'{type(self).__name__} has a target encoder but no '
                             f'{", ".join(missing)}: declare DEFAULT_MOMENTUM at the top of the '
                             'class or pass them to the model')
        for key in ('momentum', 'end_momentum'):
            value = settings[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f'model.{key} must be a number in [0, 1], got {value!r}')
        if settings['schedule'] not in ('constant', 'cosine'):
            raise ValueError("model.momentum_schedule must be 'constant' or 'cosine', got "
                             f"{settings['schedule']!r}")
        self._momentum_settings = {k: settings[k] for k in ('momentum', 'end_momentum', 'schedule')}

    def momentum_settings(self) -> Dict[str, object]:
        """The EMA of the target encoder: ``momentum``, ``end_momentum``, ``schedule``.

        Empty for an algorithm without a target encoder (SimCLR, SimSiam).
        """
        return dict(self._momentum_settings)

    @staticmethod
    def image_indices(data_samples: Optional[dict], device: torch.device,
                      needed_by: Optional[str] = None, fix: str = '') -> Optional[torch.Tensor]:
        """The ``N`` dataset indices of the batch's images (``data_samples['idx']``).

        ``None`` when the batch has none, unless ``needed_by`` names what needs them: then a
        one-line error (``fix`` is appended to it).
        """
        if isinstance(data_samples, dict) and 'idx' in data_samples:
            return torch.as_tensor(data_samples['idx'], device=device).long().view(-1)
        if needed_by:
            raise ValueError(f"{needed_by} needs the image indices (data_samples['idx']); use a "
                             f'dataset of moco_plugin, whose items carry them{fix}')
        return None

    def required_hooks(self) -> List[str]:
        """Type names of the hooks a training run of this model cannot do without."""
        needed = []
        if self.momentum_pairs():
            needed.append('MomentumUpdateHook')
        if any(isinstance(m, (FeatureQueue, FeatureBank)) for m in self.modules()):
            needed.append('QueueHook')
        return needed

    def declare_training_hooks(self, *names: str) -> None:
        """Record that the hooks ``names`` do their work for this model during training.

        ``QueueHook`` and ``MomentumUpdateHook`` call this before training; a loop that
        flushes the queue and applies the EMA itself (a benchmark) declares them too.
        """
        self._declared_hooks.update(names)

    def check_training_hooks(self) -> None:
        """Raise :class:`MissingTrainingHookError` if a :meth:`required_hooks` is undeclared."""
        missing = [name for name in self.required_hooks() if name not in self._declared_hooks]
        if missing:
            what = {'QueueHook': 'memory of negatives (queue or bank)',
                    'MomentumUpdateHook': 'target encoder'}
            listed = ', '.join(f"dict(type='{name}')" for name in missing)
            raise MissingTrainingHookError(
                f'{type(self).__name__} trains without {" and ".join(missing)}: its '
                f'{" and ".join(what[name] for name in missing)} would never be updated; '
                f'add {listed} to custom_hooks')

    def parse_losses(self, losses):
        # Both MMEngine's train_step and its DDP wrapper's pass through here once per
        # training step, so the first step of any Runner checks for the hooks.
        if not self._hooks_checked:
            self.check_training_hooks()
            self._hooks_checked = True
        return super().parse_losses(losses)

    def forward(self, inputs: Inputs, data_samples: Optional[dict] = None, mode: str = 'tensor'):
        if mode == 'loss':
            views = inputs if isinstance(inputs, (list, tuple)) else [inputs]
            return self.loss(list(views), data_samples)
        if mode in ('tensor', 'predict'):
            return self.extract_feat(inputs)
        raise ValueError(f"mode must be 'loss', 'tensor' or 'predict', got {mode!r}")

    def extract_feat(self, inputs: Inputs) -> torch.Tensor:
        """Pooled backbone features of the first view, shape ``(N, C)``."""
        x = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        return self.backbone(x)

    def loss(self, inputs: List[torch.Tensor], data_samples: Optional[dict]) -> Dict[str, torch.Tensor]:
        raise NotImplementedError(f'{type(self).__name__} must implement loss()')

    def init_weights(self) -> None:
        """Initialise the online modules, then copy each into its momentum target.

        Both encoders start equal in MoCo and BYOL. With
        ``init_cfg=dict(type='Pretrained', ...)`` the checkpoint's own targets
        are kept instead.
        """
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        for online, target in self.momentum_pairs():
            target.load_state_dict(online.state_dict())

    @staticmethod
    def momentum_copy(module: nn.Module) -> nn.Module:
        """A frozen copy of ``module``: a target that only ``MomentumUpdateHook`` moves."""
        target = copy.deepcopy(module)
        for param in target.parameters():
            param.requires_grad_(False)
        return target

    def momentum_pairs(self) -> Sequence[Tuple[nn.Module, nn.Module]]:
        """``(online, target)`` module pairs that :class:`MomentumUpdateHook` averages.

        Algorithms without a momentum (target) encoder return an empty list.
        """
        return []

    def embed_views(self, views: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """``neck(backbone(view))`` for each view, computed as one concatenated batch.

        One pass shares BN statistics across all views (as SimCLR, BYOL and
        SimSiam do) and runs one larger, faster batch.
        """
        embeddings = self.neck(self.backbone(torch.cat(list(views), dim=0)))
        return list(embeddings.split([v.shape[0] for v in views]))

    @staticmethod
    def _check_views(inputs: List[torch.Tensor], needed: int, name: str) -> None:
        if len(inputs) < needed:
            raise ValueError(f'{name} needs {needed} augmented views per image, got {len(inputs)}; '
                             "use a MultiView transform with num_views>=2 in the dataset pipeline")
