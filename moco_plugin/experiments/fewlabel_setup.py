"""What every few-label tool starts from: the config, the checkpoint's backbone, the pool
(with its label file) and the test set, at the checkpoint's training resolution."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from mmengine.config import Config

import moco_plugin.datasets  # noqa: F401  (registers the datasets)
import moco_plugin.engine  # noqa: F401  (safe checkpoint loading)
import moco_plugin.models  # noqa: F401
from moco_plugin.fewlabel.features import ExtractionOptions, FeatureExtractor
from moco_plugin.fewlabel.splits import (DataOptions, build_split, load_fewlabel_config,  # noqa: F401
                                         pool_and_labels)
from moco_plugin.zoo.backbone_loading import (EvaluationBackbone, evaluation_image_size,  # noqa: F401
                                              load_evaluation_backbone)

Log = Callable[[str], None]


@dataclass
class FewLabelModel:
    """A config + checkpoint (``'random'``: random init) and how its data and features are
    made."""

    config: str
    checkpoint: str
    data: DataOptions = field(default_factory=DataOptions)
    extraction: ExtractionOptions = field(default_factory=ExtractionOptions)
    seed: int = 0


def load_config(model: FewLabelModel) -> Config:
    return load_fewlabel_config(model.config, model.data)


def image_size(cfg: Config, data: DataOptions, checkpoint: Optional[str]) -> int:
    """The crop side of the pool and the test set: the checkpoint's training resolution."""
    return evaluation_image_size(cfg, checkpoint, data.image_size)


def labelled_pool(cfg: Config, model: FewLabelModel, labels_file: str):
    """``(pool, pool config, labels)`` of the label file."""
    return pool_and_labels(cfg, model.data, labels_file,
                           image_size(cfg, model.data, model.checkpoint))


def split(cfg: Config, model: FewLabelModel, which: str, pool=None):
    """The pool (``'train'``) or the test set (checked against ``pool``), and its config."""
    return build_split(cfg, model.data, which, image_size(cfg, model.data, model.checkpoint),
                       pool=pool)


def backbone_of(cfg: Config, model: FewLabelModel,
                checkpoint: Optional[str] = None) -> EvaluationBackbone:
    """The config's model with the backbone of ``checkpoint`` (default: the model's)."""
    return load_evaluation_backbone(cfg.model, checkpoint or model.checkpoint, model.seed)


def extractor(model: FewLabelModel, log: Log) -> FeatureExtractor:
    return FeatureExtractor(model.extraction, log)
