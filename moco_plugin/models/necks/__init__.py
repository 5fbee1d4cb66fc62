from moco_plugin.models.necks.linear_neck import LinearNeck
from moco_plugin.models.necks.mlp_neck import MoCoV2Neck

__all__ = ['LinearNeck', 'MoCoV2Neck']
