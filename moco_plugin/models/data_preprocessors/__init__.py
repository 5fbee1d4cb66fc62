from moco_plugin.models.data_preprocessors.batch_moco_augment import (BatchMoCoAugment,
                                                                      MoCoAugmentParams)
from moco_plugin.models.data_preprocessors.device_data_preprocessor import DeviceDataPreprocessor
from moco_plugin.models.data_preprocessors.ssl_data_preprocessor import SelfSupDataPreprocessor

__all__ = ['BatchMoCoAugment', 'DeviceDataPreprocessor', 'MoCoAugmentParams', 'SelfSupDataPreprocessor']
