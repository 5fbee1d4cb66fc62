"""The stored image as several (not yet augmented) uint8 views, for augmentation on the device."""
from __future__ import annotations

from typing import List

import numpy as np
import torch
from torchvision.transforms import functional as TF

from moco_plugin.registry import TRANSFORMS


@TRANSFORMS.register_module()
class UnaugmentedViews:
    """Return the image as a ``uint8`` tensor ``(3, H, W)``, ``num_views`` times.

    The fast pipeline of :class:`~moco_plugin.models.data_preprocessors.BatchMoCoAugment`:
    the data loader only hands over the stored pixels and every view is made
    from them on the training device, for the whole batch at once. The views
    are the same tensor object, so the image is converted once; collation
    stacks each view position into its own batch, which is what the
    algorithms expect (a list of ``num_views`` batches).

    Args:
        num_views: Number of views the algorithm consumes (2 for MoCo).
    """

    def __init__(self, num_views: int = 2) -> None:
        if num_views < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        self.num_views = num_views

    def __call__(self, image) -> List[torch.Tensor]:
        if isinstance(image, torch.Tensor):
            tensor = image
        elif isinstance(image, np.ndarray):  # (H, W, 3) as stored by in-memory datasets
            tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        elif getattr(image, 'mode', None) == 'RGB':  # PIL: one copy into a writable array
            tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1)
        else:
            tensor = TF.pil_to_tensor(image)
        return [tensor] * self.num_views

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_views={self.num_views})'
