from moco_plugin.models.necks.byol_neck import BYOLNeck
from moco_plugin.models.necks.linear_neck import LinearNeck
from moco_plugin.models.necks.mlp_neck import MoCoV2Neck
from moco_plugin.models.necks.simclr_neck import SimCLRNeck
from moco_plugin.models.necks.simsiam_neck import SimSiamNeck

__all__ = ['BYOLNeck', 'LinearNeck', 'MoCoV2Neck', 'SimCLRNeck', 'SimSiamNeck']
