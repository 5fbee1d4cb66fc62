from moco_plugin.models.algorithms.base import BaseSelfSupervisor
from moco_plugin.models.algorithms.byol import BYOL
from moco_plugin.models.algorithms.end_to_end_contrast import EndToEndContrast
from moco_plugin.models.algorithms.memory_bank_contrast import MemoryBankContrast
from moco_plugin.models.algorithms.moco import MoCo
from moco_plugin.models.algorithms.random_init import RandomInit
from moco_plugin.models.algorithms.simclr import SimCLR
from moco_plugin.models.algorithms.simsiam import SimSiam
from moco_plugin.models.algorithms.supervised import Supervised

__all__ = ['BYOL', 'BaseSelfSupervisor', 'EndToEndContrast', 'MemoryBankContrast', 'MoCo', 'RandomInit', 'SimCLR', 'SimSiam', 'Supervised']
