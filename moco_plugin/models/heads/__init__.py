from moco_plugin.models.heads.infonce_head import InfoNCEHead
from moco_plugin.models.heads.latent_predict_head import LatentPredictHead
from moco_plugin.models.heads.linear_cls_head import LinearClsHead
from moco_plugin.models.heads.ntxent_head import NTXentHead

__all__ = ['InfoNCEHead', 'LatentPredictHead', 'LinearClsHead', 'NTXentHead']
