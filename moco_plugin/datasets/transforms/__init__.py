"""Transforms: importing this module registers them."""
from moco_plugin.datasets.transforms.classification_augment import RandomResizedCropFlip
from moco_plugin.datasets.transforms.moco_augment import (MoCoV1Augment, MoCoV2Augment,
                                                          ResizeCenterCrop, ToUint8Tensor)
from moco_plugin.datasets.transforms.multi_view import MultiView
from moco_plugin.datasets.transforms.unaugmented_views import UnaugmentedViews

__all__ = ['MoCoV1Augment', 'MoCoV2Augment', 'MultiView', 'RandomResizedCropFlip', 'ResizeCenterCrop',
           'ToUint8Tensor', 'UnaugmentedViews']
