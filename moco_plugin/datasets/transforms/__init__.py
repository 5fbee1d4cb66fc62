"""Transforms: importing this module registers them."""
from moco_plugin.datasets.transforms.moco_augment import (MoCoV1Augment, MoCoV2Augment,
                                                          ResizeCenterCrop, ToUint8Tensor)
from moco_plugin.datasets.transforms.multi_view import MultiView

__all__ = ['MoCoV1Augment', 'MoCoV2Augment', 'MultiView', 'ResizeCenterCrop', 'ToUint8Tensor']
