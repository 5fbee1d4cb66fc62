from moco_plugin.models.utils.batch_shuffle import shuffle_batch, unshuffle_batch
from moco_plugin.models.utils.feature_bank import FeatureBank
from moco_plugin.models.utils.feature_queue import FeatureQueue
from moco_plugin.models.utils.split_batchnorm import SplitBatchNorm2d, convert_split_bn

__all__ = ['FeatureBank', 'FeatureQueue', 'SplitBatchNorm2d', 'convert_split_bn', 'shuffle_batch',
           'unshuffle_batch']
