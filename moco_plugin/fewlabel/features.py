"""Cached features of a whole split for the few-label tools, on the device and in the
precision chosen for the split's crop size (extracted once per checkpoint and split)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from moco_plugin.engine.runtime_choice import set_threads
from moco_plugin.evaluation.feature_extraction import (FeatureSet, cached_features,
                                                       extract_features, feature_cache_key,
                                                       feature_identity, make_eval_loader)
from moco_plugin.utils.device_precision import PrecisionChoice, choose_precision, resolve_device

Log = Callable[[str], None]


@dataclass
class ExtractionOptions:
    """How features are extracted: ``precision`` is the request (``--amp`` folded in)."""

    batch_size: int = 256
    num_workers: int = 2
    use_cache: bool = True
    progress: bool = True
    device: Optional[str] = None
    precision: str = 'auto'
    threads: Optional[int] = None


def crop_size(dataset_cfg: dict) -> Optional[int]:
    """The first integer ``size`` of the split's pipeline (its crop)."""
    sizes = [step.get('size') for step in dataset_cfg.get('pipeline') or [] if isinstance(step, dict)]
    return next((int(s) for s in sizes if isinstance(s, int)), None)


class FeatureExtractor:
    """Extracts (or reads from the cache) the features of splits; ``precision_choice`` is
    the choice of the latest call, what the tools' result files record."""

    def __init__(self, options: ExtractionOptions, log: Log):
        self.options = options
        self.log = log
        self.precision_choice: Optional[Dict[str, Any]] = None

    def runtime(self, image_size: Optional[int]) -> PrecisionChoice:
        """The device and precision for extraction (or fine-tuning) at ``image_size``."""
        self.options.device = resolve_device(self.options.device)
        choice = choose_precision(self.options.precision, self.options.device, 'extract',
                                  image_size)
        self.precision_choice = choice.as_dict()
        return choice

    def features(self, backbone, dataset, dataset_cfg: dict) -> FeatureSet:
        """Features of ``dataset`` (built from ``dataset_cfg``) by ``backbone``
        (:class:`~moco_plugin.zoo.backbone_loading.EvaluationBackbone`)."""
        split = dataset_cfg.get('split') or 'pool'
        choice = self.runtime(crop_size(dataset_cfg))
        threads = set_threads(self.options.threads)
        backbone.model.to(choice.device)
        amp = choice.precision if choice.autocast else False
        identity = dict(backbone.identity, amp=feature_identity({}, amp)['amp'])
        key = feature_cache_key(backbone.weights_sha256, dataset,
                                dict(identity, pipeline=dataset_cfg['pipeline']))
        loader = make_eval_loader(dataset, self.options.batch_size, self.options.num_workers)
        tick = time.perf_counter()
        feats, hit = cached_features(
            key, lambda: extract_features(backbone.model, loader, f'features ({split})',
                                          amp=amp, progress=self.options.progress),
            use_cache=self.options.use_cache)
        self.log(f'{split} features {feats.features.shape}: '
                 + ('from cache' if hit else f'extracted in {time.perf_counter() - tick:.1f} s')
                 + f"; {choice.log_line()}; {threads['threads']} threads")
        if choice.warning and not hit:
            self.log(f'warning: {choice.warning}')
        return feats
