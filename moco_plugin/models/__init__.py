"""Models: importing this module registers every model component."""
from moco_plugin.models import algorithms, backbones, data_preprocessors, heads, necks  # noqa: F401
from moco_plugin.models.algorithms import BaseSelfSupervisor, MoCo

__all__ = ['BaseSelfSupervisor', 'MoCo']
