"""Produce several independently augmented views of one image."""
from __future__ import annotations

from typing import List, Sequence, Union

from moco_plugin.datasets.base_dataset import build_pipeline
from moco_plugin.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MultiView:
    """Apply transform pipelines to the same image to get several views.

    Args:
        transforms: One pipeline (list of transform configs) used for every
            view, or a list of pipelines, one per view (for asymmetric
            augmentations such as BYOL's).
        num_views: Number of views when a single pipeline is given.
    """

    def __init__(self, transforms: Union[Sequence[dict], Sequence[Sequence[dict]]],
                 num_views: int = 2) -> None:
        per_view = transforms and isinstance(transforms[0], (list, tuple))
        pipelines = list(transforms) if per_view else [transforms] * num_views
        if not pipelines:
            raise ValueError('MultiView needs at least one view')
        self.views = [build_pipeline(p) for p in pipelines]

    def __call__(self, image) -> List:
        return [view(image) for view in self.views]
