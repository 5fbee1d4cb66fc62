from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.models.algorithms.moco import MoCo

__all__ = ['BaseSelfSupervisor', 'MoCo']
