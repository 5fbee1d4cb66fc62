"""Upload the training set's pixels to the device once, for a loader that hands out indices."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from moco_plugin.datasets.device_array_dataset import DeviceArrayDataset
from moco_plugin.registry import HOOKS


def unwrap_dataset(dataset):
    """The first :class:`DeviceArrayDataset` in a chain of ``.dataset`` wrappers, else ``None``."""
    while dataset is not None and not isinstance(dataset, DeviceArrayDataset):
        dataset = getattr(dataset, 'dataset', None)
    return dataset


@HOOKS.register_module()
class DeviceDataHook(Hook):
    """Before training, give the data preprocessor the pixels of the training set.

    Pairs :class:`~moco_plugin.datasets.DeviceArrayDataset` (the loader's items
    are indices) with
    :class:`~moco_plugin.models.data_preprocessors.DeviceDataPreprocessor`
    (gathers the indexed images on the device). Runs once per ``runner.train()``,
    after the model has been placed on its device; refuses, in one line, a
    config where either half is missing.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        dataset = unwrap_dataset(runner.train_dataloader.dataset)
        if dataset is None:
            raise ValueError(f'DeviceDataHook: the training set is '
                             f'{type(runner.train_dataloader.dataset).__name__}, not a '
                             "DeviceArrayDataset; wrap it: train_dataloader.dataset=dict(type="
                             "'DeviceArrayDataset', dataset=dict(..., in_memory=True)), or remove "
                             'the hook')
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        preprocessor = model.data_preprocessor
        if not hasattr(preprocessor, 'attach_images'):
            raise ValueError(f"DeviceDataHook: the model's data preprocessor is "
                             f"{type(preprocessor).__name__}; set model.data_preprocessor.type="
                             "'DeviceDataPreprocessor' to gather the indexed images on the device")
        images = preprocessor.attach_images(dataset.image_array())
        runner.logger.info(f'DeviceDataHook: {images.shape[0]} training images '
                           f'({images.numel() / 2**20:.0f} MiB uint8) on {images.device}')
