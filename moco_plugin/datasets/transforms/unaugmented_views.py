"""The stored image as several (not yet augmented) uint8 views, for augmentation on the device."""
from __future__ import annotations

from typing import List, Optional

import numpy as np
import torch
from PIL import Image
from torchvision.transforms import functional as TF

from moco_plugin.datasets.image_io import resize_center_crop
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

    A batch must stack into one tensor, so all images need one size: folders of
    mixed sizes (ImageNet-style) set ``size``, or the dataset's ``in_memory_size``.
    Without either, the first image of another size is refused by name of these
    settings (rather than failing later inside collation).

    Args:
        num_views: Number of views the algorithm consumes (2 for MoCo).
        size: Scale the shorter side to ``size`` and centre-crop ``size x size``
            before batching (``None``: keep the stored size).
    """

    def __init__(self, num_views: int = 2, size: Optional[int] = None) -> None:
        if num_views < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        if size is not None and (not isinstance(size, int) or size <= 0):
            raise ValueError(f'UnaugmentedViews size must be a positive integer, got {size!r}')
        self.num_views = num_views
        self.size = size
        self._first_shape: Optional[tuple] = None

    def __call__(self, image) -> List[torch.Tensor]:
        if self.size is not None:
            if isinstance(image, np.ndarray):
                image = Image.fromarray(np.ascontiguousarray(image))
            elif isinstance(image, torch.Tensor):
                image = TF.to_pil_image(image)
            image = resize_center_crop(image.convert('RGB'), self.size)
        tensor = self._to_tensor(image)
        if self._first_shape is None:
            self._first_shape = tuple(tensor.shape)
        elif tuple(tensor.shape) != self._first_shape:
            raise ValueError(
                f'UnaugmentedViews got a {tuple(tensor.shape[1:])} image after '
                f'{self._first_shape[1:]} ones; batched augmentation needs one size: set '
                'size=N in UnaugmentedViews (train_dataloader.dataset.pipeline) or the '
                "dataset's in_memory_size=N")
        return [tensor] * self.num_views

    @staticmethod
    def _to_tensor(image) -> torch.Tensor:
        if isinstance(image, torch.Tensor):
            tensor = image
        elif isinstance(image, np.ndarray):  # (H, W, 3) as stored by in-memory datasets
            tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
        elif getattr(image, 'mode', None) == 'RGB':  # PIL: one copy into a writable array
            tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1)
        else:
            tensor = TF.pil_to_tensor(image)
        return tensor

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_views={self.num_views}, size={self.size})'
